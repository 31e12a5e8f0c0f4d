import Joi from 'joi';
import { TEXT_MAX_CHARS } from '../domain/comment';

/**
 * Surrounding whitespace is trimmed and what remains must be 1–500 characters, so a comment of
 * spaces is refused rather than stored empty. NUL is refused: PostgreSQL text cannot hold it.
 */
const text = Joi.string()
  .trim()
  .min(1)
  .custom((value: string, helpers) => {
    if (value.includes('\u0000')) return helpers.error('text.nul');
    if ([...value].length > TEXT_MAX_CHARS) return helpers.error('text.max');
    return value;
  })
  .messages({
    'text.max': `{{#label}} must be at most ${TEXT_MAX_CHARS} characters`,
    'text.nul': '{{#label}} must not contain NUL characters',
  });

const postId = Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER);

export interface CreateCommentInput {
  post_id: number;
  text: string;
}

/**
 * POST /api/comments. `post_id` is a JSON number, as in the old API (no "5" or "1e3" strings).
 * Every other field (id, user_id, like, blocked, timestamps) is dropped.
 */
export const createCommentSchema = Joi.object<CreateCommentInput>({
  post_id: postId.strict().required(),
  text: text.required(),
});

export interface CommentTextInput {
  text: string;
}

/** POST /api/posts/:id/comments and PUT /api/comments/:id: the post comes from the path or stays. */
export const commentTextSchema = Joi.object<CommentTextInput>({
  text: text.required(),
});
