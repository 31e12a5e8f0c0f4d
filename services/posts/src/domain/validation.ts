import Joi from 'joi';
import { badRequest } from '@mpb/errors';
import { parseId } from './post';

export const TITLE_MIN = 3;
export const TITLE_MAX = 200;
export const DESCRIPTION_MIN = 10;
/** The old API had no upper bound; 20 000 characters is a long article and keeps rows small. */
export const DESCRIPTION_MAX = 20_000;
export const TAG_MAX = 50;

/** Single-line fields (title, tag) refuse every control character, NUL and line breaks included. */
const CONTROL_CHARACTERS = /\p{Cc}/u;

const noControlCharacters = { name: 'control characters', invert: true } as const;
const messages = {
  'string.pattern.invert.name': '{{#label}} must not contain {{#name}}',
  'string.nul': '{{#label}} must not contain NUL characters',
};

const title = Joi.string()
  .trim()
  .min(TITLE_MIN)
  .max(TITLE_MAX)
  .pattern(CONTROL_CHARACTERS, noControlCharacters)
  .messages(messages);
const description = Joi.string()
  .trim()
  .min(DESCRIPTION_MIN)
  .max(DESCRIPTION_MAX)
  // PostgreSQL cannot store NUL in text: refused here rather than failing in the database.
  .custom((value: string, helpers) => (value.includes('\u0000') ? helpers.error('string.nul') : value))
  .messages(messages);
/** An empty (or all-space) tag means "no tag". */
const tag = Joi.string()
  .trim()
  .max(TAG_MAX)
  .allow('')
  .pattern(CONTROL_CHARACTERS, noControlCharacters)
  .messages(messages);

/**
 * What a client may send. Unknown fields (id, user_id, like, count_viewers, timestamps...) are
 * stripped by the service kit's validate, so they can never be stored.
 */
export interface CreatePostBody {
  title: string;
  description: string;
  tag?: string | null;
}

export const createPostSchema = Joi.object<CreatePostBody>({
  title: title.required(),
  description: description.required(),
  tag: tag.allow(null),
});

/** Every field optional; absent or null keeps the stored value; `tag: ""` removes the tag. */
export interface UpdatePostBody {
  title?: string | null;
  description?: string | null;
  tag?: string | null;
}

export const updatePostSchema = Joi.object<UpdatePostBody>({
  title: title.allow(null),
  description: description.allow(null),
  tag: tag.allow(null),
});

export interface NewPostInput {
  title: string;
  description: string;
  tag: string | null;
}

/** Fields to change; a missing key keeps the stored value. */
export interface PostChanges {
  title?: string;
  description?: string;
  tag?: string | null;
}

export const toNewPostInput = (b: CreatePostBody): NewPostInput => ({
  title: b.title,
  description: b.description,
  tag: b.tag ? b.tag : null,
});

export function toPostChanges(b: UpdatePostBody): PostChanges {
  const changes: PostChanges = {};
  if (b.title != null) changes.title = b.title;
  if (b.description != null) changes.description = b.description;
  if (b.tag != null) changes.tag = b.tag === '' ? null : b.tag;
  return changes;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/**
 * Most rows a page may skip ((page - 1) × limit). Deep offsets cost a scan of every skipped row and
 * are useless to people; past this a client narrows the list with `tag` or `user_id`.
 */
export const MAX_OFFSET = 10_000;
/** The deepest page a limit reaches. */
export const maxPageOf = (limit: number): number => Math.floor(MAX_OFFSET / limit) + 1;
/**
 * Totals are counted up to this many rows (every row any page can reach); a larger total is
 * reported as this number, so one list request never counts more than about ten thousand rows.
 */
export const MAX_COUNTED_TOTAL = MAX_OFFSET + MAX_PAGE_SIZE;

export interface ListQuery {
  page: number;
  /** Already clamped to MAX_PAGE_SIZE. */
  limit: number;
  tag?: string;
  userId?: number;
}

const DIGITS = /^[0-9]{1,30}$/;

function positiveInteger(raw: unknown, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !DIGITS.test(raw) || Number(raw) < 1) {
    throw badRequest(`${name} must be a positive integer`, { details: { field: name } });
  }
  return Number(raw);
}

/**
 * The query of `GET /api/posts`. Bad values are a 400 naming the parameter; a limit above the
 * maximum is clamped rather than refused, so clients asking for "everything" get a full page.
 * Unknown parameters are ignored.
 */
export function parseListQuery(query: Record<string, unknown>): ListQuery {
  const page = positiveInteger(query.page, 'page', 1);
  const limit = Math.min(positiveInteger(query.limit, 'limit', DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
  if (page > maxPageOf(limit)) {
    throw badRequest(
      `page must be at most ${maxPageOf(limit)} for limit ${limit}: at most ${MAX_OFFSET} posts are skipped; filter by tag or user_id to reach older ones`,
      { details: { field: 'page' } },
    );
  }
  const result: ListQuery = { page, limit };

  if (query.tag !== undefined) {
    const value = typeof query.tag === 'string' ? query.tag.trim() : undefined;
    if (!value || value.length > TAG_MAX || CONTROL_CHARACTERS.test(value)) {
      throw badRequest(`tag must be 1 to ${TAG_MAX} characters`, { details: { field: 'tag' } });
    }
    result.tag = value;
  }
  if (query.user_id !== undefined) {
    const userId = parseId(query.user_id);
    if (userId === undefined) throw badRequest('invalid user_id', { details: { field: 'user_id' } });
    result.userId = userId;
  }
  return result;
}
