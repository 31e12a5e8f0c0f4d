import type { TraceContext } from '@mpb/contracts';
import { badRequest, notFound, unavailable } from '@mpb/errors';
import type { Logger } from '@mpb/logger';
import { countsOf, EMPTY_SNAPSHOT, needsLikers, type Counts, type PostState } from './counts';
import { likeEvent, viewedEvent } from './events';
import {
  GONE,
  type CounterCache,
  type CounterStore,
  type EventPublisher,
  type Gone,
  type LikeDecision,
  type PostDirectory,
} from './ports';

export const SERVICE_NAME = 'metrics';

/** Texts of the old API, kept because clients match on them, and the new ones beside them. */
export const Messages = {
  invalidPostId: 'invalid post id',
  postNotFound: 'post not found',
  alreadyLiked: 'user already liked this post',
  notLiked: "user hasn't liked this post",
  liked: 'Post liked successfully',
  unliked: 'Post unliked successfully',
  notRecorded: 'could not record the change (event bus unavailable); nothing was changed, try again',
  likersUnavailable: 'the likes of this post could not be loaded; nothing was changed, try again',
} as const;

/** At most this many posts per GetCounts call (one page of a list). */
export const MAX_POSTS_PER_CALL = 100;

/** Likers are loaded from PostgreSQL into Redis in chunks of this many. */
const LOAD_CHUNK = 2000;

export interface MetricsServiceDeps {
  cache: CounterCache;
  store: CounterStore;
  posts: PostDirectory;
  events: EventPublisher;
  logger: Logger;
}

export interface LikeResult {
  likes: number;
}

export interface LikeStatus {
  likes: number;
  liked: boolean;
}

/**
 * Likes and views on the hot path: every change is decided atomically in Redis, published as an
 * event (batched with concurrent ones), and taken back if publishing fails, so a client that got a
 * success has its change on Kafka and one that got an error has nothing changed.
 */
export class MetricsService {
  private readonly loading = new Map<number, Promise<void>>();

  constructor(private readonly d: MetricsServiceDeps) {}

  /** Counts one view and answers the counts including it; a view that cannot be published is taken back. */
  async recordView(postId: number, viewerId: number, trace: TraceContext = {}): Promise<Counts> {
    const state = await this.d.cache.recordView(postId, viewerId);
    if (state === GONE) throw notFound(Messages.postNotFound);
    const epoch = state.epoch ?? 0;
    const takeBack = async (): Promise<void> => {
      await this.d.cache.undoView(postId, epoch).catch((undoErr: unknown) => {
        this.d.logger.error(
          { post_id: postId, err: String(undoErr) },
          'could not take back an unpublished view',
        );
      });
    };
    let counts: Counts;
    try {
      [counts] = (await this.complete([postId], [state], viewerId)) as [Counts];
    } catch (err) {
      await takeBack();
      throw err;
    }
    try {
      await this.d.events.publish(
        viewedEvent({ post_id: postId, viewer_id: viewerId, epoch, views: counts.views }, trace),
      );
    } catch (err) {
      await takeBack();
      throw unavailable(Messages.notRecorded, { cause: err });
    }
    return counts;
  }

  /** Counts of many posts (one Redis round trip when everything is cached), in the order asked. */
  async getCounts(postIds: number[], viewerId: number): Promise<Counts[]> {
    if (postIds.length === 0) return [];
    return this.complete(postIds, await this.d.cache.read(postIds, viewerId), viewerId);
  }

  like(userId: number, postId: number, trace: TraceContext = {}): Promise<LikeResult> {
    return this.change(userId, postId, true, trace);
  }

  unlike(userId: number, postId: number, trace: TraceContext = {}): Promise<LikeResult> {
    return this.change(userId, postId, false, trace);
  }

  async likeStatus(userId: number, postId: number): Promise<LikeStatus> {
    await this.d.posts.assertLive(postId);
    const states = await this.d.cache.read([postId], userId);
    if (states[0] === GONE) throw notFound(Messages.postNotFound);
    const [counts] = await this.complete([postId], states, userId);
    return { likes: counts!.likes, liked: counts!.likedByViewer };
  }

  private async change(
    userId: number,
    postId: number,
    like: boolean,
    trace: TraceContext,
  ): Promise<LikeResult> {
    await this.d.posts.assertLive(postId);
    const decision = await this.decide(postId, userId, like);
    if (decision.kind === 'gone') throw notFound(Messages.postNotFound);
    if (decision.kind === 'unchanged') throw badRequest(like ? Messages.alreadyLiked : Messages.notLiked);
    try {
      await this.d.events.publish(
        likeEvent(
          like,
          { post_id: postId, user_id: userId, seq: decision.seq, likes: decision.likes },
          trace,
        ),
      );
    } catch (err) {
      await this.d.cache.undoLike(postId, userId, decision).catch((undoErr: unknown) => {
        this.d.logger.error(
          { post_id: postId, user_id: userId, err: String(undoErr) },
          'could not take back an unpublished like decision',
        );
      });
      throw unavailable(Messages.notRecorded, { cause: err });
    }
    return { likes: decision.likes };
  }

  /** The decision is only taken on a complete set of likers: an unloaded post is loaded first. */
  private async decide(
    postId: number,
    userId: number,
    like: boolean,
  ): Promise<Exclude<LikeDecision, { kind: 'unloaded' }>> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const decision = await this.d.cache.decideLike(postId, userId, like);
      if (decision.kind !== 'unloaded') return decision;
      await this.loadLikers(postId);
    }
    throw unavailable(Messages.likersUnavailable);
  }

  /** One load per post at a time in this process; loaders in other processes merge the same rows. */
  private loadLikers(postId: number): Promise<void> {
    let loading = this.loading.get(postId);
    if (!loading) {
      loading = this.copyLikers(postId).finally(() => this.loading.delete(postId));
      this.loading.set(postId, loading);
    }
    return loading;
  }

  private async copyLikers(postId: number): Promise<void> {
    let after = 0;
    for (;;) {
      const page = await this.d.store.likers(postId, after, LOAD_CHUNK);
      const complete = page.length < LOAD_CHUNK;
      await this.d.cache.mergeLikers(postId, page, complete);
      if (complete) return;
      after = page[page.length - 1]!.userId;
    }
  }

  /**
   * Turns Redis states into counts, refilling what Redis lacks from PostgreSQL: snapshots (written
   * back unless a newer one arrived meanwhile) and, for a signed-in viewer, the likers of the posts
   * whose membership Redis cannot tell (loaded as for a like, then read again).
   */
  private async complete(
    postIds: number[],
    states: Array<PostState | Gone>,
    viewerId: number,
  ): Promise<Counts[]> {
    const missing = states.filter((s): s is PostState => s !== GONE && s.snapshot === undefined);
    if (missing.length > 0) {
      const ids = missing.map((s) => s.postId);
      const stored = await this.d.store.snapshots(ids);
      const saved = await this.d.cache.saveSnapshots(
        ids.map((postId) => ({ postId, snapshot: stored.get(postId) ?? EMPTY_SNAPSHOT })),
        viewerId,
      );
      states = replace(states, ids, saved);
    }
    const unloaded = states.filter((s): s is PostState => s !== GONE && needsLikers(s, viewerId));
    if (unloaded.length > 0) {
      const ids = unloaded.map((s) => s.postId);
      await Promise.all(ids.map((id) => this.loadLikers(id)));
      const again = await this.d.cache.read(ids, viewerId);
      states = replace(states, ids, again);
    }
    return states.map((s, i) =>
      s === GONE
        ? { postId: postIds[i]!, likes: 0, views: 0, likedByViewer: false }
        : countsOf(s, s.snapshot ?? EMPTY_SNAPSHOT),
    );
  }
}

/** States read again for some posts replace the earlier ones (keeping a snapshot an eviction lost meanwhile). */
function replace(
  states: Array<PostState | Gone>,
  ids: number[],
  fresh: Array<PostState | Gone>,
): Array<PostState | Gone> {
  const byId = new Map(fresh.map((s, i) => [ids[i]!, s]));
  return states.map((s) => {
    if (s === GONE || !byId.has(s.postId)) return s;
    const next = byId.get(s.postId)!;
    return next !== GONE && next.snapshot === undefined ? { ...next, snapshot: s.snapshot } : next;
  });
}
