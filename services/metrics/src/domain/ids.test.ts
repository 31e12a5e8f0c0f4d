import { parseViewerId } from './ids';

describe('viewer ids', () => {
  it('takes 0 or nothing as the anonymous viewer', () => {
    expect(parseViewerId(0)).toBe(0);
    expect(parseViewerId(undefined)).toBe(0);
    expect(parseViewerId(17)).toBe(17);
    expect(parseViewerId('007')).toBe(7);
    expect(parseViewerId(-2)).toBeUndefined();
  });
});
