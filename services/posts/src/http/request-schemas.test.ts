import { isAppError } from '@mpb/errors';
import { validate } from '@mpb/service-kit';
import {
  createPostSchema,
  parseListFilters,
  toNewPostInput,
  toPostChanges,
  updatePostSchema,
} from './request-schemas';

const valid = { title: 'A fine title', description: 'Long enough description' };

function rejection(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isAppError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('post bodies', () => {
  it('trims title, description and tag, and strips every field a client may not set', () => {
    const body = validate(createPostSchema, {
      title: '  Hello there  ',
      description: '  ten chars or more  ',
      tag: ' news ',
      id: 5,
      user_id: 9,
      like: 100,
      count_viewers: 1000,
      created_at: '2000-01-01T00:00:00Z',
      updated_at: '2000-01-01T00:00:00Z',
    });
    expect(body).toEqual({ title: 'Hello there', description: 'ten chars or more', tag: 'news' });
  });

  it.each([
    ['a missing title', { description: valid.description }, /title is required/],
    ['a title of spaces', { ...valid, title: '     ' }, /title/],
    ['a title of two characters after trimming', { ...valid, title: '  ab  ' }, /at least 3/],
    ['a title over 200 characters', { ...valid, title: 'x'.repeat(201) }, /200/],
    ['a title with a line break', { ...valid, title: 'two\nlines' }, /control characters/],
    ['a numeric title', { ...valid, title: 12345 }, /must be a string/],
    ['a missing description', { title: valid.title }, /description is required/],
    ['a description of nine characters after trimming', { ...valid, description: '  123456789 ' }, /10/],
    ['a description over 20000 characters', { ...valid, description: 'x'.repeat(20_001) }, /20000/],
    ['a description with NUL', { ...valid, description: 'ten chars\u0000 more' }, /NUL/],
    ['a tag over 50 characters', { ...valid, tag: 't'.repeat(51) }, /50/],
    ['a tag with a control character', { ...valid, tag: 'a\u0007b' }, /control characters/],
  ])('refuses %s on create', (_name, body, message) => {
    const err = rejection(() => validate(createPostSchema, body));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.message).toMatch(message);
  });

  it('accepts the bounds', () => {
    expect(() =>
      validate(createPostSchema, { title: 'abc', description: 'x'.repeat(10), tag: 't'.repeat(50) }),
    ).not.toThrow();
    expect(() =>
      validate(createPostSchema, { title: 'x'.repeat(200), description: 'x'.repeat(20_000) }),
    ).not.toThrow();
  });

  it('treats an empty or absent tag as no tag', () => {
    expect(toNewPostInput(validate(createPostSchema, { ...valid, tag: '   ' })).tag).toBeNull();
    expect(toNewPostInput(validate(createPostSchema, { ...valid, tag: null })).tag).toBeNull();
    expect(toNewPostInput(validate(createPostSchema, valid)).tag).toBeNull();
  });

  it('keeps absent and null fields on update, and clears the tag with an empty string', () => {
    expect(toPostChanges(validate(updatePostSchema, {}))).toEqual({});
    expect(toPostChanges(validate(updatePostSchema, { title: null, description: null, tag: null }))).toEqual(
      {},
    );
    expect(toPostChanges(validate(updatePostSchema, { tag: '' }))).toEqual({ tag: null });
    expect(toPostChanges(validate(updatePostSchema, { title: ' New title ', user_id: 3 }))).toEqual({
      title: 'New title',
    });
  });

  it.each([
    ['spaces', '   '],
    ['empty', ''],
    ['too short', ' ab '],
  ])('refuses a title that is %s on update', (_name, title) => {
    expect(rejection(() => validate(updatePostSchema, { title })).code).toBe('VALIDATION_FAILED');
  });
});

describe('list filters', () => {
  it('reads and checks the filters', () => {
    expect(parseListFilters({ tag: ' news ', user_id: '42', page: '3', limit: '5' })).toEqual({
      tag: 'news',
      userId: 42,
    });
    expect(parseListFilters({ user_id: '007' })).toEqual({ userId: 7 });
    for (const user_id of ['abc', '0', '-1', '1.5', '99999999999999999999']) {
      expect(rejection(() => parseListFilters({ user_id })).message).toBe('invalid user_id');
    }
    for (const tag of ['', '   ', 't'.repeat(51), ['a', 'b']]) {
      expect(rejection(() => parseListFilters({ tag })).message).toMatch(/^tag must be/);
    }
  });

  it('ignores parameters it does not know', () => {
    expect(parseListFilters({ sort: 'title', offset: '5' })).toEqual({});
  });
});
