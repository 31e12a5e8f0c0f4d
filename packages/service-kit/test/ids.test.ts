import { requireId } from '../src';

describe('requireId', () => {
  it('reads an id by the platform rule, leading zeros included', () => {
    expect(requireId('42', 'invalid post id')).toBe(42);
    expect(requireId('007', 'invalid post id')).toBe(7);
    expect(requireId(9, 'invalid post id')).toBe(9);
  });

  it.each(['abc', '0', '-1', '+1', '1.5', '1e3', '', '9007199254740992', undefined, ['1']])(
    'refuses %p with a 400 carrying the given message',
    (raw) => {
      expect(() => requireId(raw, 'invalid comment id')).toThrow(
        expect.objectContaining({ code: 'BAD_REQUEST', message: 'invalid comment id' }),
      );
    },
  );
});
