import type { MetricEvent } from './events';

/** Views of one post in a batch, with what the counters need to track the newest Redis epoch. */
export interface ViewFold {
  views: number;
  /** The newest epoch among the batch's views of this post, and how many of them carry it. */
  epoch: number;
  epochViews: number;
}

/** The last like decision of one user on one post within a batch. */
export interface LikeChange {
  postId: number;
  userId: number;
  liked: boolean;
  seq: number;
}

export interface FoldPlan {
  /** Every post the batch touches, ascending (locks are taken in this order). */
  posts: number[];
  views: Map<number, ViewFold>;
  likes: LikeChange[];
  /** The highest offset of the batch: stored with the counts. */
  lastOffset: string;
}

/**
 * Folds a batch (in offset order) into one change per post and one per (post, user): views are
 * summed; of several like decisions of one user on one post, the one with the highest sequence wins,
 * so a like then an unlike in one batch nets to "not liked".
 */
export function planFold(events: readonly MetricEvent[]): FoldPlan {
  if (events.length === 0) throw new Error('planFold: empty batch');
  const posts = new Set<number>();
  const views = new Map<number, ViewFold>();
  const likes = new Map<string, LikeChange>();
  let lastOffset = events[0]!.offset;
  for (const e of events) {
    posts.add(e.postId);
    if (BigInt(e.offset) > BigInt(lastOffset)) lastOffset = e.offset;
    if (e.kind === 'view') {
      const fold = views.get(e.postId);
      if (!fold) views.set(e.postId, { views: 1, epoch: e.epoch, epochViews: 1 });
      else {
        fold.views += 1;
        if (e.epoch > fold.epoch) {
          fold.epoch = e.epoch;
          fold.epochViews = 1;
        } else if (e.epoch === fold.epoch) fold.epochViews += 1;
      }
      continue;
    }
    const key = `${e.postId}:${e.userId}`;
    const previous = likes.get(key);
    // Equal sequences are the same decision delivered twice; the later copy changes nothing.
    if (!previous || e.seq > previous.seq) {
      likes.set(key, { postId: e.postId, userId: e.userId, liked: e.kind === 'like', seq: e.seq });
    }
  }
  return { posts: [...posts].sort((a, b) => a - b), views, likes: [...likes.values()], lastOffset };
}
