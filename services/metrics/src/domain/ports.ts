import type { EventEnvelope } from '@mpb/contracts';
import type { PostState, Snapshot } from './counts';
import type { MetricEvent } from './events';

/** Redis says the post was deleted: nothing is counted for it any more. */
export const GONE = 'gone' as const;
export type Gone = typeof GONE;

/** One user's current state on one post, with the sequence of the decision that set it. */
export interface LikerEntry {
  userId: number;
  liked: boolean;
  seq: number;
}

export type LikeDecision =
  | { kind: 'gone' }
  /** The post's likers are not in Redis yet (first use, or after a flush): load them, then decide. */
  | { kind: 'unloaded' }
  /** Already in the wanted state: nothing changed. */
  | { kind: 'unchanged'; likes: number }
  | {
      kind: 'changed';
      likes: number;
      seq: number;
    };

/** A view: the post was deleted, or its state and whether this view counted (false: seen within the window). */
export type ViewOutcome = Gone | { state: PostState; counted: boolean };

/** The hot state in Redis. Every method is one atomic script per post. */
export interface CounterCache {
  /**
   * Counts one view in the post's current epoch and returns the post's state including it, unless
   * `viewer` (see viewerKey) was counted within the last `windowSeconds`: then nothing changes and
   * `counted` is false. The check and the count are one script, so racing views of a viewer count
   * once. An undefined viewer, or a window of 0, counts every view.
   */
  recordView(
    postId: number,
    viewerId: number,
    viewer: string | undefined,
    windowSeconds: number,
  ): Promise<ViewOutcome>;
  /**
   * Takes back a view whose event could not be published (if its epoch is still current), and
   * forgets that the viewer was counted.
   */
  undoView(postId: number, epoch: number, viewer?: string): Promise<void>;
  /** The state of many posts in one round trip, in the order asked. */
  read(postIds: number[], viewerId: number): Promise<Array<PostState | Gone>>;
  /**
   * Stores snapshots read from PostgreSQL unless Redis holds a newer one, in one round trip, and
   * returns the resulting states.
   */
  saveSnapshots(
    snapshots: Array<{ postId: number; snapshot: Snapshot }>,
    viewerId: number,
  ): Promise<Array<PostState | Gone>>;
  /** The atomic check-and-set of a like (`like` true) or an unlike. */
  decideLike(postId: number, userId: number, like: boolean): Promise<LikeDecision>;
  /**
   * Drops the post's likers (unless the post is deleted), after a decision whose event may or may not
   * have been written: they are reloaded from PostgreSQL before the next decision or membership read.
   */
  dropLikers(postId: number): Promise<void>;
  /** Starts or joins a load of the post's likers; its generation goes with every merge of the load. */
  beginLoad(postId: number): Promise<string>;
  /**
   * Merges entries of a load into the post's likers, keeping per user the entry with the higher
   * sequence; `complete` marks the set as fully loaded. False when the likers were dropped since the
   * load began (nothing is marked loaded then: the load must start over).
   */
  mergeLikers(postId: number, generation: string, entries: LikerEntry[], complete: boolean): Promise<boolean>;
  /** Merges one decision into the post's likers (the higher sequence wins), as a fold's push does. */
  mergeDecision(postId: number, entry: LikerEntry): Promise<void>;
  /** After a fold: newer snapshots and like entries, all posts in one round trip. */
  pushFolded(
    snapshots: Array<{ postId: number; snapshot: Snapshot }>,
    likers: Array<LikerEntry & { postId: number }>,
  ): Promise<void>;
  /** Marks the post deleted (for a while) and drops its counters. */
  forgetPost(postId: number): Promise<void>;
}

/** PostgreSQL reads the API needs when Redis lacks something. */
export interface CounterStore {
  snapshots(postIds: number[]): Promise<Map<number, Snapshot>>;
  /** Users who like the post, by ascending user id after `afterUserId`, at most `limit`. */
  likers(postId: number, afterUserId: number, limit: number): Promise<LikerEntry[]>;
  /** The user's folded decision on the post (liked or not, with its sequence), if any. */
  likeOf(postId: number, userId: number): Promise<LikerEntry | undefined>;
}

export interface FoldOutcome {
  applied: number;
  /** Events at or below the stored offset: already applied by an earlier delivery. */
  skipped: number;
  /** The committed state of what the applied events changed, for Redis. */
  snapshots: Map<number, Snapshot>;
  likers: Array<LikerEntry & { postId: number }>;
}

/** The consumer's side of PostgreSQL. */
export interface FoldLedger {
  /**
   * In one transaction: skips events at or below the partition's stored offset, applies the rest,
   * stores the new offset. Returns the resulting snapshots of the posts whose counters changed and the
   * resulting state of every (post, user) pair the applied events touched.
   */
  apply(topic: string, partition: number, events: MetricEvent[]): Promise<FoldOutcome>;
  snapshots(postIds: number[]): Promise<Map<number, Snapshot>>;
  /** The stored state of these (post, user) pairs; pairs without a row are left out. */
  likeStates(
    pairs: Array<{ postId: number; userId: number }>,
  ): Promise<Array<LikerEntry & { postId: number }>>;
  /** Removes the post's counters and likes and remembers the deletion; idempotent. */
  deletePost(postId: number): Promise<void>;
}

/** Does the post exist (and is it not deleted)? Throws NOT_FOUND or UNAVAILABLE. */
export interface PostDirectory {
  assertLive(postId: number): Promise<void>;
  forget(postId: number): void;
}

export interface EventPublisher {
  publish(envelope: EventEnvelope<unknown>): Promise<void>;
}
