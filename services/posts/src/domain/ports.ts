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

/**
 * Likes and views of posts as reads need them: never failing. When metrics cannot answer, the last
 * counts seen (or zero) stand in and a view is reported as not recorded.
 */
export interface PostCountsPort {
  /**
   * Counts one view of a read and answers the counts including it; `recorded` is false when the
   * viewer was counted already within metrics' window, or metrics did not answer. `address` names an
   * anonymous reader (`viewerId` 0).
   */
  tryRecordView(
    postId: number,
    viewerId: number,
    address?: string,
  ): Promise<{ counts: PostCounts; recorded: boolean }>;
  /** Counts of every post asked for (at most 100). */
  countsOf(postIds: number[], viewerId: number): Promise<Map<number, PostCounts>>;
}
