import { parseId } from './index';

describe('parseId, the one id rule', () => {
  it.each([
    ['1', 1],
    ['42', 42],
    [String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
    ['007', 7],
    ['0000000000000001', 1],
    [`000${Number.MAX_SAFE_INTEGER}`, Number.MAX_SAFE_INTEGER],
    ['0'.repeat(31) + '7', 7],
    [7, 7],
  ])('reads %p as %p', (raw, id) => {
    expect(parseId(raw)).toBe(id);
  });

  it.each([
    'abc',
    '-1',
    '+1',
    '0',
    '00',
    '1.5',
    '1e3',
    '0x10',
    ' 1',
    '1 ',
    '',
    String(2 ** 53),
    '99999999999999999999',
    '0'.repeat(32) + '7',
    '9007199254740993',
    '9999999999999999',
    -1,
    0,
    1.5,
    2 ** 53,
    null,
    undefined,
    ['1'],
    { id: 1 },
  ])('refuses %p', (raw) => {
    expect(parseId(raw)).toBeUndefined();
  });
});
