import type {
  CommentCreatedPayload,
  CommentDeletedPayload,
  CommentDeletedReason,
  CommentUpdatedPayload,
} from '@mpb/contracts';

/** Counted in characters (code points), as the old API and PostgreSQL's varchar(500) count them. */
export const TEXT_MAX_CHARS = 500;

/** A comment as the service works with it. */
export interface Comment {
  id: number;
  postId: number;
  userId: number;
  text: string;
  like: number;
  blocked: boolean;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

/** The old API's `CommentResponse`, field for field. */
export interface CommentResponse {
  id: number;
  post_id: number;
  user_id: number;
  text: string;
  like: number;
  blocked: boolean;
  created_at: string;
  updated_at: string;
}

export const toCommentResponse = (c: Comment): CommentResponse => ({
  id: c.id,
  post_id: c.postId,
  user_id: c.userId,
  text: c.text,
  like: c.like,
  blocked: c.blocked,
  created_at: c.createdAt.toISOString(),
  updated_at: c.updatedAt.toISOString(),
});

/**
 * Event payloads (their contracts live in @mpb/contracts). Events carry ids and times, never the
 * text: consumers that need it ask over gRPC.
 */
export const commentCreatedPayload = (c: Comment): CommentCreatedPayload => ({
  id: c.id,
  post_id: c.postId,
  user_id: c.userId,
  created_at: c.createdAt.toISOString(),
});

export const commentUpdatedPayload = (c: Comment): CommentUpdatedPayload => ({
  id: c.id,
  post_id: c.postId,
  user_id: c.userId,
  updated_at: c.updatedAt.toISOString(),
});

export function commentDeletedPayload(c: Comment, reason: CommentDeletedReason): CommentDeletedPayload {
  if (!c.deletedAt) throw new Error(`comment ${c.id} is not deleted`);
  return {
    id: c.id,
    post_id: c.postId,
    user_id: c.userId,
    deleted_at: c.deletedAt.toISOString(),
    reason,
  };
}
