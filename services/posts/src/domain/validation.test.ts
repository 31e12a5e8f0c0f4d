import { isAppError } from '@mpb/errors';
import { validate } from '@mpb/service-kit';
import {
  createPostSchema,
  DEFAULT_PAGE_SIZE,
  MAX_OFFSET,
  MAX_PAGE_SIZE,
  parseListQuery,
  toNewPostInput,
  toPostChanges,
  updatePostSchema,
} from './validation';

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

describe('list query', () => {
  it('defaults to the first page of 20', () => {
    expect(parseListQuery({})).toEqual({ page: 1, limit: DEFAULT_PAGE_SIZE });
  });

  it('clamps a large limit to the maximum instead of refusing it', () => {
    expect(parseListQuery({ limit: '1000' }).limit).toBe(MAX_PAGE_SIZE);
    expect(parseListQuery({ limit: '100' }).limit).toBe(100);
    expect(parseListQuery({ limit: '99999999999999999999999' }).limit).toBe(MAX_PAGE_SIZE);
  });

  it.each([
    ['page', 'abc'],
    ['page', '0'],
    ['page', '-1'],
    ['page', '1.5'],
    ['page', ''],
    ['page', '1e3'],
    ['limit', 'abc'],
    ['limit', '0'],
    ['limit', '-5'],
    ['limit', ' 5'],
  ])('refuses %s=%j with a message naming it', (name, value) => {
    const err = rejection(() => parseListQuery({ [name]: value }));
    expect(err).toEqual({ code: 'BAD_REQUEST', message: `${name} must be a positive integer` });
  });

  it('refuses a repeated parameter and a page that skips more than MAX_OFFSET posts', () => {
    expect(rejection(() => parseListQuery({ limit: ['1', '2'] })).message).toMatch(/limit/);
    expect(parseListQuery({ page: String(MAX_OFFSET / 20 + 1) }).page).toBe(MAX_OFFSET / 20 + 1);
    expect(rejection(() => parseListQuery({ page: String(MAX_OFFSET / 20 + 2) }))).toEqual({
      code: 'BAD_REQUEST',
      message: `page must be at most ${MAX_OFFSET / 20 + 1} for limit 20: at most ${MAX_OFFSET} posts are skipped; filter by tag or user_id to reach older ones`,
    });
    expect(parseListQuery({ page: '101', limit: '100' }).page).toBe(101);
    expect(rejection(() => parseListQuery({ page: '102', limit: '100' })).message).toMatch(
      /page must be at most 101/,
    );
    expect(rejection(() => parseListQuery({ page: '100000000' })).message).toMatch(/page must be at most/);
  });

  it('reads and checks the filters', () => {
    expect(parseListQuery({ tag: ' news ', user_id: '42', page: '3', limit: '5' })).toEqual({
      page: 3,
      limit: 5,
      tag: 'news',
      userId: 42,
    });
    for (const user_id of ['abc', '0', '-1', '1.5', '99999999999999999999']) {
      expect(rejection(() => parseListQuery({ user_id })).message).toBe('invalid user_id');
    }
    for (const tag of ['', '   ', 't'.repeat(51), ['a', 'b']]) {
      expect(rejection(() => parseListQuery({ tag })).message).toMatch(/^tag must be/);
    }
  });

  it('ignores parameters it does not know', () => {
    expect(parseListQuery({ sort: 'title', offset: '5' })).toEqual({ page: 1, limit: 20 });
  });
});
