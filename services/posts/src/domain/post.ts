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

/** Payload of `post.created`. */
export type PostCreatedPayload = {
  id: number;
  user_id: number;
  title: string;
  tag: string | null;
  created_at: string;
};

/**
 * Payload of `post.updated`: the post's state after the change, without its description. Events
 * stay small and within what Kafka accepts (a 20 000-character description is up to 60 KB, and a
 * burst of edits would fill a producer request): they reference the post by id, and a consumer that
 * needs the text asks posts for it (gRPC GetPost). No consumer reads it today.
 */
export type PostUpdatedPayload = {
  id: number;
  user_id: number;
  title: string;
  tag: string | null;
  updated_at: string;
};

/** Payload of `post.deleted`: consumers remove what hangs off the post (comments, files, counters). */
export type PostDeletedPayload = {
  id: number;
  user_id: number;
  deleted_at: string;
};

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
