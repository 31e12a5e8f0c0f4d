import type { PostCreatedPayload, PostDeletedPayload, PostUpdatedPayload } from '@mpb/contracts';

/** A post as the service works with it. Likes and views are not part of it: metrics owns them. */
export interface Post {
  id: number;
  userId: number;
  title: string;
  description: string;
  tag: string | null;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

/** Likes and views of one post, as metrics reports them. */
export interface PostCounts {
  likes: number;
  views: number;
}

export const NO_COUNTS: PostCounts = Object.freeze({ likes: 0, views: 0 });

/** The old API's post shape, which clients depend on, with its types: `tag` is always a string. */
export interface PostResponse {
  id: number;
  user_id: number;
  title: string;
  description: string;
  /** `""` when the post has no tag (stored as NULL): the old API typed it as a string. */
  tag: string;
  like: number;
  count_viewers: number;
  created_at: string;
  updated_at: string;
}

export const toPostResponse = (p: Post, counts: PostCounts): PostResponse => ({
  id: p.id,
  user_id: p.userId,
  title: p.title,
  description: p.description,
  tag: p.tag ?? '',
  like: counts.likes,
  count_viewers: counts.views,
  created_at: p.createdAt.toISOString(),
  updated_at: p.updatedAt.toISOString(),
});

/** Event payloads (their contracts live in @mpb/contracts). */
export const postCreatedPayload = (p: Post): PostCreatedPayload => ({
  id: p.id,
  user_id: p.userId,
  title: p.title,
  tag: p.tag,
  created_at: p.createdAt.toISOString(),
});

export const postUpdatedPayload = (p: Post): PostUpdatedPayload => ({
  id: p.id,
  user_id: p.userId,
  title: p.title,
  tag: p.tag,
  updated_at: p.updatedAt.toISOString(),
});

export function postDeletedPayload(p: Post): PostDeletedPayload {
  if (!p.deletedAt) throw new Error(`post ${p.id} is not deleted`);
  return { id: p.id, user_id: p.userId, deleted_at: p.deletedAt.toISOString() };
}
