import { parseId, parseViewerId } from './ids';

describe('ids', () => {
  it.each(['1', '42', 42, '9007199254740991'])('accepts %p', (raw) => {
    expect(parseId(raw)).toBe(Number(raw));
  });

  it.each(['abc', '-1', '0', '1.5', '1e3', '9007199254740992', '', ' 1', undefined, null, 1.5, -3])(
    'refuses %p',
    (raw) => {
      expect(parseId(raw)).toBeUndefined();
    },
  );

  it('takes 0 or nothing as the anonymous viewer', () => {
    expect(parseViewerId(0)).toBe(0);
    expect(parseViewerId(undefined)).toBe(0);
    expect(parseViewerId(17)).toBe(17);
    expect(parseViewerId(-2)).toBeUndefined();
  });
});
