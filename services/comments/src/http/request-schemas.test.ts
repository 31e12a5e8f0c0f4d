import { validate } from '@mpb/service-kit';
import { TEXT_MAX_CHARS } from '../domain/comment';
import { commentTextSchema, createCommentSchema } from './request-schemas';

function failure(
  schema: Parameters<typeof validate>[0],
  input: unknown,
): { message: string; field?: unknown } {
  try {
    validate(schema, input);
  } catch (err) {
    const e = err as { message: string; code: string; details?: { field?: unknown } };
    expect(e.code).toBe('VALIDATION_FAILED');
    return { message: e.message, field: e.details?.field };
  }
  throw new Error('expected a validation error');
}

describe('comment text', () => {
  it('is trimmed before it is stored', () => {
    expect(validate(commentTextSchema, { text: '  nice post \n' })).toEqual({ text: 'nice post' });
  });

  it.each([
    ['missing', {}],
    ['empty', { text: '' }],
    ['only spaces', { text: '   ' }],
    ['only whitespace of every kind', { text: ' \t\n\u00a0\u3000' }],
    ['not a string', { text: 42 }],
    ['null', { text: null }],
    ['too long', { text: 'a'.repeat(TEXT_MAX_CHARS + 1) }],
    ['with a NUL character', { text: 'a\u0000b' }],
  ])('refuses text that is %s, naming the field', (_case, input) => {
    expect(failure(commentTextSchema, input).field).toBe('text');
  });

  it('accepts 1 and 500 characters, counting characters rather than UTF-16 units', () => {
    expect(validate(commentTextSchema, { text: 'a' })).toEqual({ text: 'a' });
    expect(validate(commentTextSchema, { text: 'a'.repeat(TEXT_MAX_CHARS) }).text).toHaveLength(500);
    const emoji = '😀'.repeat(TEXT_MAX_CHARS); // 500 characters, 1000 UTF-16 units
    expect(validate(commentTextSchema, { text: emoji }).text).toBe(emoji);
    expect(failure(commentTextSchema, { text: `${emoji}😀` }).message).toBe(
      'text must be at most 500 characters',
    );
  });

  it('counts the limit after trimming', () => {
    expect(validate(commentTextSchema, { text: `  ${'a'.repeat(TEXT_MAX_CHARS)}  ` }).text).toHaveLength(500);
  });
});

describe('new comment', () => {
  it('takes post_id and text only; ids, owner, counters and flags are dropped', () => {
    expect(
      validate(createCommentSchema, {
        post_id: 7,
        text: 'hi',
        id: 1,
        user_id: 99,
        like: 1000,
        blocked: true,
        created_at: '2000-01-01T00:00:00Z',
        updated_at: '2000-01-01T00:00:00Z',
        deleted_at: null,
      }),
    ).toEqual({ post_id: 7, text: 'hi' });
  });

  it.each([
    ['missing', { text: 'hi' }],
    ['zero', { post_id: 0, text: 'hi' }],
    ['negative', { post_id: -1, text: 'hi' }],
    ['fractional', { post_id: 1.5, text: 'hi' }],
    ['not a number', { post_id: 'abc', text: 'hi' }],
    ['a numeric string', { post_id: '5', text: 'hi' }],
    ['beyond a safe integer', { post_id: 2 ** 53, text: 'hi' }],
  ])('refuses a post_id that is %s', (_case, input) => {
    expect(failure(createCommentSchema, input).field).toBe('post_id');
  });

  it('refuses a body that is not an object', () => {
    expect(() => validate(createCommentSchema, ['post_id', 1])).toThrow();
    expect(() => validate(createCommentSchema, 'text')).toThrow();
  });
});
