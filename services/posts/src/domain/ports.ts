import type { EventEnvelope } from '@mpb/contracts';
import type { Post, PostCounts } from './post';
import type { ListQuery, NewPostInput, PostChanges } from './post-input';

/** What the domain needs from storage; src/data implements it with knex. */

export interface NewPost extends NewPostInput {
  userId: number;
}

/** What to do with a post once it is locked; decided by the domain, applied by the store. */
export type PostModification =
  | { kind: 'update'; changes: PostChanges; event: (after: Post) => EventEnvelope }
  | { kind: 'delete'; event: (after: Post) => EventEnvelope }
  | { kind: 'none' };

export interface PostStore {
  /** Live posts matching the filter, newest first (created_at, then id), and how many match in all. */
  list(query: ListQuery): Promise<{ posts: Post[]; total: number }>;
  findById(id: number, o?: { includeDeleted?: boolean }): Promise<Post | undefined>;
  findByIds(ids: number[], o?: { includeDeleted?: boolean }): Promise<Post[]>;
  /** Inserts the post and its event in one transaction. */
  createWithEvent(post: NewPost, event: (created: Post) => EventEnvelope): Promise<Post>;
  /**
   * Locks the live post with this id, asks `decide` what to do (it may throw, e.g. forbidden, which
   * changes nothing), and applies the change with its event in the same transaction. Returns the
   * post afterwards, or undefined when no live post has the id.
   */
  modifyLive(id: number, decide: (current: Post) => PostModification): Promise<Post | undefined>;
}

/** The metrics service as posts uses it: views recorded one at a time, counts read a page at a time. */
export interface MetricsPort {
  /**
   * Counts one view and returns the counts including it. The viewer is the user, or for an anonymous
   * reader (`viewerId` 0) the client's address; metrics counts a viewer once per post within its
   * window and then answers `alreadyCounted` with the current counts.
   */
  recordView(
    postId: number,
    viewerId: number,
    address?: string,
  ): Promise<PostCounts & { alreadyCounted?: boolean }>;
  /** Counts of up to 100 posts in one call; posts metrics does not know may be missing. */
  getCounts(postIds: number[], viewerId: number): Promise<Map<number, PostCounts>>;
}
