import type { EventEnvelope } from '@mpb/contracts';
import type { Comment } from './comment';

/** What the domain needs from storage and from the posts service; src/data and src/grpc implement it. */

export interface NewComment {
  postId: number;
  userId: number;
  text: string;
}

/** Builds the event of a change from the row as stored (ids and timestamps come from the database). */
export type EventOf = (comment: Comment) => EventEnvelope<unknown>;

export type CreateOutcome = { outcome: 'created'; comment: Comment } | { outcome: 'post_deleted' };

export type ChangeOutcome =
  { outcome: 'changed'; comment: Comment } | { outcome: 'not_found' } | { outcome: 'forbidden' };

export interface CascadeStep {
  /** The event was applied before (a redelivery): nothing was changed. */
  alreadyProcessed: boolean;
  /** Comments soft-deleted by this step. */
  deleted: number;
  /** No live comment of the post is left and the event is recorded as processed. */
  done: boolean;
}

export interface CommentStore {
  /**
   * A post's live comments, newest first, how many it has, and whether the post is recorded as
   * deleted (its `post.deleted` reached this service).
   */
  listLiveByPost(
    postId: number,
    page: { limit: number; offset: number },
  ): Promise<{ comments: Comment[]; total: number; postDeleted: boolean }>;
  findById(id: number, o?: { includeDeleted?: boolean }): Promise<Comment | undefined>;
  /**
   * Inserts the comment and its event in one transaction, unless the post is known to be deleted.
   * Serialised per post with the cascade, so a comment is never stored after its post's cascade ran.
   */
  createWithEvent(comment: NewComment, event: EventOf): Promise<CreateOutcome>;
  /** Changes the text of a live comment owned by `userId`, with its event, in one transaction. */
  updateTextWithEvent(id: number, userId: number, text: string, event: EventOf): Promise<ChangeOutcome>;
  /** Soft-deletes a live comment owned by `userId`, with its event, in one transaction. */
  softDeleteWithEvent(id: number, userId: number, event: EventOf): Promise<ChangeOutcome>;
  /**
   * One bounded transaction of a post's cascade: records the post as deleted, soft-deletes up to
   * `chunkSize` of its live comments with one event each, and, once none is left, marks the event
   * processed for `consumer`. Repeating it after a crash or a redelivery never deletes or emits twice.
   */
  deleteCommentsOfDeletedPost(o: {
    postId: number;
    consumer: string;
    eventId: string;
    chunkSize: number;
    event: EventOf;
  }): Promise<CascadeStep>;
}

export interface PostDirectory {
  /**
   * Whether the post exists and is not deleted. Throws when the posts service cannot answer
   * (unreachable, deadline exceeded, internal error).
   */
  postExists(postId: number, o?: { requestId?: string }): Promise<boolean>;
}

/**
 * What the read paths remember about posts' liveness (the service kit's LivenessCache): a deleted
 * post is remembered for good, a live one briefly at most; concurrent asks for one post share a call.
 */
export interface PostLivenessMemory {
  /** true or false when known without asking posts, undefined otherwise. */
  known(postId: number): boolean | undefined;
  /** Whether the post is live, from memory or from `ask`; rejects when `ask` does. */
  isLive(postId: number, ask: () => Promise<boolean>): Promise<boolean>;
  /** The post was deleted (a read found out, or `post.deleted` arrived). */
  markGone(postId: number): void;
}
