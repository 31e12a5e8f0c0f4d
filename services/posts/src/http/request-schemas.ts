import Joi from 'joi';
import { badRequest } from '@mpb/errors';
import { parseId } from '@mpb/contracts';
import {
  CONTROL_CHARACTERS,
  DESCRIPTION_MAX,
  DESCRIPTION_MIN,
  TAG_MAX,
  TITLE_MAX,
  TITLE_MIN,
  type ListFilters,
  type NewPostInput,
  type PostChanges,
} from '../domain/post-input';

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
