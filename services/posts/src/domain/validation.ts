import Joi from 'joi';
import { badRequest } from '@mpb/errors';
import { parseId } from '@mpb/contracts';
import type { PageRequest } from '@mpb/service-kit';

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

/** What the deep-page 400 of `GET /api/posts` says: the list's name and how to reach older posts. */
export const POSTS_PAGING = { items: 'posts', hint: 'filter by tag or user_id to reach older ones' } as const;

/** The filters of `GET /api/posts`. */
export interface ListFilters {
  tag?: string;
  userId?: number;
}

/** One page of the filtered list (the page comes from the service kit's parsePageRequest). */
export type ListQuery = PageRequest & ListFilters;

/**
 * The filters of `GET /api/posts`: bad values are a 400 naming the parameter; unknown parameters are
 * ignored.
 */
export function parseListFilters(query: Record<string, unknown>): ListFilters {
  const result: ListFilters = {};
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
