/**
 * How a post's counts are put together from what PostgreSQL has folded and what Redis has seen
 * since. Pure arithmetic, shared by every read path.
 */

/** The folded totals of a post as PostgreSQL last committed them (`post_counters`). */
export interface Snapshot {
  /** Grows with every fold; the newest snapshot wins in Redis whoever writes it. */
  version: number;
  views: number;
  likes: number;
  /** The newest Redis view epoch folded so far, and how many views of that epoch are folded. */
  viewEpoch: number;
  epochViews: number;
}

export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({
  version: 0,
  views: 0,
  likes: 0,
  viewEpoch: 0,
  epochViews: 0,
});

/** What Redis holds for one post. */
export interface PostState {
  postId: number;
  /** Absent after a flush or before the first read: refilled from PostgreSQL. */
  snapshot?: Snapshot;
  /** The post's Redis view epoch (created with its first view after a flush) and views counted in it. */
  epoch?: number;
  produced: number;
  likers: {
    /** The whole set of likers was loaded from PostgreSQL: `count` and membership are exact. */
    loaded: boolean;
    count: number;
    /** The viewer's entry: > 0 likes (the decision's sequence), < 0 unliked, undefined unknown. */
    viewer?: number;
  };
}

export interface Counts {
  postId: number;
  likes: number;
  views: number;
  likedByViewer: boolean;
}

/**
 * Views counted in Redis that the snapshot does not contain yet: those of the current epoch minus
 * the ones PostgreSQL reports folded from that epoch. Views of an older epoch (before a flush) are
 * not in Redis any more; they appear when the consumer folds them.
 */
export function pendingViews(state: Pick<PostState, 'epoch' | 'produced'>, snapshot: Snapshot): number {
  if (state.epoch === undefined) return 0;
  if (snapshot.viewEpoch < state.epoch) return state.produced;
  if (snapshot.viewEpoch === state.epoch) return Math.max(0, state.produced - snapshot.epochViews);
  return 0;
}

/** The counts the API answers. */
export function countsOf(state: PostState, snapshot: Snapshot): Counts {
  const { likers } = state;
  return {
    postId: state.postId,
    views: snapshot.views + pendingViews(state, snapshot),
    likes: Math.max(0, likers.loaded ? likers.count : snapshot.likes),
    likedByViewer: (likers.viewer ?? 0) > 0,
  };
}

/** Whether answering a signed-in viewer needs the post's likers loaded into Redis first. */
export const needsLikers = (state: PostState, viewerId: number): boolean =>
  viewerId !== 0 && !state.likers.loaded && state.likers.viewer === undefined;
