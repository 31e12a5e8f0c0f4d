import type { TraceContext } from '@mpb/contracts';
import { badRequest, notFound, unavailable } from '@mpb/errors';
import type { Logger } from '@mpb/logger';
import { completeCounts, type CountCompletionDeps } from './count-completion';
import type { Counts, PostState } from './counts';
import { likeEvent, viewedEvent } from './events';
import { FoldBarrierQueue } from './fold-barrier-queue';
import { LikersLoader } from './likers-loader';
import {
  GONE,
  type CounterCache,
  type CounterStore,
  type EventPublisher,
  type Gone,
  type LikeDecision,
  type LikerEntry,
  type PostDirectory,
} from './ports';
import { BackgroundPublisher, DEFAULT_PUBLISH_TIMEOUT_MS, publishWithin } from './publishing';
import { viewerKey } from './viewer';

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
  unsettled: 'the likes of this post are being rebuilt; nothing was changed, try again',
  invalidViewerAddress: 'invalid viewer address',
} as const;

/** At most this many posts per GetCounts call (one page of a list). */
export const MAX_POSTS_PER_CALL = 100;

/**
 * The start-up reset publishes again the like entries of this last span (see confirmLikers): longer
 * than a decision's event can stay unfolded (the consumer's lag) or a take-back stay unpublished.
 */
export const CONFIRM_WINDOW_MS = 5 * 60_000;

/** Attempts to publish the take-back of a decision whose publish failed, and the first wait between them. */
const TAKE_BACK_ATTEMPTS = 5;
const TAKE_BACK_BACKOFF_MS = 1000;

export interface MetricsServiceDeps {
  cache: CounterCache;
  store: CounterStore;
  posts: PostDirectory;
  events: EventPublisher;
  logger: Logger;
  /**
   * How long a request waits for Kafka's acknowledgement of its event, well within the gateway's
   * upstream timeout: kafkajs keeps retrying for longer while the broker is away.
   */
  publishTimeoutMs?: number;
  /** The first wait between attempts to publish a take-back (doubled each time). */
  takeBackBackoffMs?: number;
  /**
   * A viewer counts at most once per post within this many seconds (VIEW_DEDUP_SECONDS); 0 counts
   * every view. Default 0 here, so a test states the window it relies on; the config's default is 1800.
   */
  viewDedupSeconds?: number;
  /**
   * Resolves once PostgreSQL has folded every metric event Kafka held when it was called; rejects when
   * that cannot be known in time (see data/fold-barrier.ts). With it, an "already liked" / "hasn't
   * liked" is answered only on a state that includes every decision acknowledged before (see settle).
   * Absent: answered on what Redis holds.
   */
  foldBarrier?: () => Promise<void>;
}

/** The counts after a view, and whether this view was counted (false: the viewer's view was counted already). */
export interface ViewResult extends Counts {
  counted: boolean;
}

export interface ViewOptions {
  /** An anonymous viewer's client address, naming it for deduplication; ignored for a signed-in one. */
  address?: string;
  trace?: TraceContext;
}

export interface LikeResult {
  likes: number;
}

export interface LikeStatus {
  likes: number;
  liked: boolean;
}

/**
 * Likes and views on the hot path: every change is decided atomically in Redis and published as an
 * event (batched with concurrent ones), so a client that got a success has its change on Kafka. A
 * failed publish is uncertain (the broker may have written the event, and the consumer may even have
 * folded it, before the failure is known): the client gets a 503 and Redis is put in a state that
 * converges to what Kafka holds either way (see recordView and change).
 */
export class MetricsService {
  private readonly likers: LikersLoader;
  private readonly completion: CountCompletionDeps;
  /** Publishes the take-backs (see takeBack). */
  private readonly takeBacks: BackgroundPublisher;
  private readonly folds: FoldBarrierQueue | undefined;
  /** Settles once decisions may be taken (see holdDecisions); undefined when they may be now. */
  private held: Promise<void> | undefined;

  constructor(private readonly d: MetricsServiceDeps) {
    this.likers = new LikersLoader(d.cache, d.store);
    this.completion = { cache: d.cache, store: d.store, likers: this.likers };
    this.takeBacks = new BackgroundPublisher(d.events);
    this.folds = d.foldBarrier ? new FoldBarrierQueue(d.foldBarrier) : undefined;
  }

  /**
   * Until `ready` settles, a like decision waits for it, at most the publish timeout, and then answers
   * 503 "nothing was changed". The start-up reset uses it: the recent decisions Redis holds must be
   * published again (or dropped for a reload) before a new decision is taken on them, and that needs
   * the producer connected, which may take a moment after the process starts to serve.
   */
  holdDecisions(ready: Promise<unknown>): void {
    const held: Promise<void> = ready.then(
      () => undefined,
      () => undefined,
    );
    this.held = held;
    void held.then(() => {
      if (this.held === held) this.held = undefined;
    });
  }

  /**
   * Counts one view and answers the counts including it; a view that cannot be published is taken
   * back. A viewer (the user, or an anonymous client's address) counts once per post within the
   * dedup window: a repeated view changes nothing, publishes nothing and answers `counted: false`.
   */
  async recordView(postId: number, viewerId: number, o: ViewOptions = {}): Promise<ViewResult> {
    const trace = o.trace ?? {};
    const window = this.d.viewDedupSeconds ?? 0;
    let viewer: string | undefined;
    try {
      viewer = viewerKey(viewerId, o.address);
    } catch {
      throw badRequest(Messages.invalidViewerAddress);
    }
    // Without a window nobody is remembered: the viewer's key is neither set nor, on a take-back, removed.
    if (window === 0) viewer = undefined;
    const outcome = await this.d.cache.recordView(postId, viewerId, viewer, window);
    if (outcome === GONE) throw notFound(Messages.postNotFound);
    const { state } = outcome;
    if (!outcome.counted) {
      // Already counted within the window: the current counts, and no event (nothing to fold).
      const [counts] = (await this.complete([postId], [state], viewerId)) as [Counts];
      return { ...counts, counted: false };
    }
    const epoch = state.epoch ?? 0;
    // Taking the view back (p - 1 if the epoch is unchanged) is right whether or not the event was
    // written. Views = b + max(0, p - f) while the snapshot's epoch is the Redis one: if the event
    // was never written, p and the folded views f and b agree again; if it was written (even folded
    // already), b and f each count it once more and p one less, so the answer undercounts by one
    // only until every view of the epoch is folded, where p - f <= 0 is clamped and b counts it
    // exactly once. A newer epoch leaves p alone (the script checks the epoch): the view, if
    // written, shows through b once folded.
    const takeBack = async (): Promise<void> => {
      await this.d.cache.undoView(postId, epoch, viewer).catch((undoErr: unknown) => {
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
      await this.publish(
        viewedEvent({ post_id: postId, viewer_id: viewerId, epoch, views: counts.views }, trace),
      );
    } catch (err) {
      await takeBack();
      throw unavailable(Messages.notRecorded, { cause: err });
    }
    return { ...counts, counted: true };
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
    if (this.held) await this.untilReleased(this.held);
    let decision = await this.decide(postId, userId, like);
    if (decision.kind === 'unchanged' && this.d.foldBarrier)
      decision = await this.settle(postId, userId, like);
    if (decision.kind === 'gone') throw notFound(Messages.postNotFound);
    if (decision.kind === 'unchanged') throw badRequest(like ? Messages.alreadyLiked : Messages.notLiked);
    try {
      await this.publish(
        likeEvent(
          like,
          { post_id: postId, user_id: userId, seq: decision.seq, likes: decision.likes },
          trace,
        ),
      );
    } catch (err) {
      this.d.logger.warn(
        { post_id: postId, user_id: userId, err: String(err) },
        'like decision not acknowledged by Kafka; taking it back',
      );
      await this.takeBack(postId, userId, like, decision, trace);
      throw unavailable(Messages.notRecorded, { cause: err });
    }
    return { likes: decision.likes };
  }

  /**
   * A failed publish is uncertain: the broker may have written the event (kafkajs retries for a while,
   * and a publish that timed out stays queued), and the consumer may even have folded it and merged
   * its entry into Redis before the failure reached us. Undoing the entry in Redis could then leave
   * PostgreSQL with a change Redis lacks, and a late write would contradict the 503's "nothing was
   * changed". So the decision is taken back by a newer one: the previous state with sequence seq + 1
   * (decisions take even sequences, so this one beats the failed decision and loses to any later
   * one), merged into Redis at once and published in the background until Kafka acknowledges it.
   * Written or not, folded before or after, the failed decision ends overridden in PostgreSQL and
   * Redis. If the take-back cannot be published either, the post's likers are dropped: they are
   * reloaded from PostgreSQL (whatever it holds) before the next decision or read, and a later fold
   * merges in what arrives after.
   */
  private async takeBack(
    postId: number,
    userId: number,
    like: boolean,
    decision: { seq: number; likes: number },
    trace: TraceContext,
  ): Promise<void> {
    const back = { userId, liked: !like, seq: decision.seq + 1 };
    const likes = Math.max(0, decision.likes + (like ? -1 : 1));
    await this.d.cache.mergeDecision(postId, back).catch((mergeErr: unknown) => {
      // The take-back's event still overrides the decision once folded (the fold pushes it to Redis).
      this.d.logger.error(
        { post_id: postId, user_id: userId, err: String(mergeErr) },
        'could not take back a like decision in Redis',
      );
    });
    const envelope = likeEvent(back.liked, { post_id: postId, user_id: userId, seq: back.seq, likes }, trace);
    this.takeBacks.publish(envelope, {
      attempts: TAKE_BACK_ATTEMPTS,
      backoffMs: this.d.takeBackBackoffMs ?? TAKE_BACK_BACKOFF_MS,
      onGiveUp: async (err) => {
        this.d.logger.error(
          { post_id: postId, user_id: userId, err: String(err) },
          'could not publish the take-back of a like decision; likers dropped for a reload',
        );
        await this.d.cache.dropLikers(postId).catch(() => undefined);
      },
    });
  }

  /**
   * For the start-up reset: publishes a post's recent liker entries again, each as the decision it
   * records with its own sequence. The consumer applies a decision only over a lower sequence, so an
   * entry already folded changes nothing; one acknowledged but not folded yet is folded once; one whose
   * publish never happened (a process killed between its Redis change and its publish, whose client got
   * no answer or a 5xx) becomes backed. Redis can then keep the post's likers instead of reloading them
   * from PostgreSQL, which lacks every decision not folded yet: a decision taken on such a reload could
   * answer "already liked" to a client whose unlike was acknowledged a moment before. True once Kafka
   * acknowledged every entry.
   */
  async confirmLikers(postId: number, entries: LikerEntry[], likes: number): Promise<boolean> {
    try {
      await Promise.all(
        entries.map((e) =>
          this.publish(likeEvent(e.liked, { post_id: postId, user_id: e.userId, seq: e.seq, likes }, {})),
        ),
      );
      return true;
    } catch (err) {
      this.d.logger.warn(
        { post_id: postId, err: String(err) },
        'could not publish recent like decisions again; likers dropped for a reload',
      );
      return false;
    }
  }

  /** Resolves once every take-back started so far was published or given up (tests, shutdown). */
  idle(): Promise<void> {
    return this.takeBacks.idle();
  }

  /**
   * Publishes, waiting at most publishTimeoutMs for the acknowledgement. The producer keeps the event
   * after a timeout (it may still be written), so the outcome is as uncertain as a failure.
   */
  private publish(envelope: Parameters<EventPublisher['publish']>[0]): Promise<void> {
    return publishWithin(this.d.events, envelope, this.d.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS);
  }

  /**
   * Before answering "already liked" / "hasn't liked". Redis may have rebuilt the post's likers from
   * PostgreSQL (after a flush, an eviction, a hash dropped after a failed publish) while a decision
   * already acknowledged to this user was on Kafka but not folded: the answer would contradict the 200
   * the user had, and the fold would overturn it. So the folds must first reach where Kafka ends now;
   * the user's folded row is then merged into Redis (the higher sequence wins) and the request decided
   * again. When the folds cannot be seen to catch up in time (the consumer down or far behind): 503,
   * nothing changed. A 400 costs a look at Kafka's offsets and two small reads; a change costs nothing.
   */
  private async settle(
    postId: number,
    userId: number,
    like: boolean,
  ): Promise<Exclude<LikeDecision, { kind: 'unloaded' }>> {
    try {
      await this.folds!.caughtUp();
    } catch (err) {
      this.d.logger.warn(
        { post_id: postId, user_id: userId, err: (err as Error).message },
        'like state unsettled: the folds are behind Kafka; nothing decided',
      );
      throw unavailable(Messages.unsettled, { cause: err });
    }
    const row = await this.d.store.likeOf(postId, userId);
    if (row) await this.d.cache.mergeDecision(postId, row);
    return this.decide(postId, userId, like);
  }

  /** Waits for a hold on decisions to end, at most the publish timeout (then 503, nothing changed). */
  private async untilReleased(held: Promise<void>): Promise<void> {
    const ms = this.d.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const released = await Promise.race([
      held.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
    clearTimeout(timer);
    if (!released) throw unavailable(Messages.notRecorded);
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
      await this.likers.load(postId);
    }
    throw unavailable(Messages.likersUnavailable);
  }

  /** Counts of these Redis states, refilled from PostgreSQL where Redis lacks something (see completeCounts). */
  private complete(
    postIds: number[],
    states: Array<PostState | Gone>,
    viewerId: number,
  ): Promise<Counts[]> {
    return completeCounts(this.completion, postIds, states, viewerId);
  }
}
