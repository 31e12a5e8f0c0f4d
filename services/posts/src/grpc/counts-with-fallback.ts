import { LRUCache } from 'lru-cache';
import { isAppError } from '@mpb/errors';
import { errorFields, type Logger } from '@mpb/logger';
import { NO_COUNTS, type PostCounts } from '../domain/post';
import type { PostCountsPort } from '../domain/ports';
import type { MetricsPort } from './metrics-client';

export interface CountsOptions {
  metrics: MetricsPort;
  logger: Logger;
  /** How many posts' last known counts are kept (least recently used go first). */
  cacheSize?: number;
  /** After a failure, metrics is not called again for this long: a dead metrics adds no latency. */
  retryAfterMs?: number;
  /** While metrics stays down, one warning per this interval (with how many requests fell back). */
  warnIntervalMs?: number;
  /** Told about each fallback, for a Prometheus counter. */
  onFallback?: (reason: 'failed' | 'skipped') => void;
  clock?: () => number;
}

/** Errors that are metrics' answer about one call, not a sign that metrics is unavailable. */
const isAnswer = (err: unknown): boolean =>
  isAppError(err) && ['NOT_FOUND', 'BAD_REQUEST', 'VALIDATION_FAILED'].includes(err.code);

/**
 * Likes and views from metrics, without ever failing a read: when metrics is down, slow or not
 * deployed yet, posts are served with the last counts seen for them (or zero). After a failure the
 * calls are skipped for `retryAfterMs`, then one request probes metrics again; failures are logged
 * once per outage and then at most once per `warnIntervalMs`, never once per request.
 */
export class CountsWithFallback implements PostCountsPort {
  private readonly metrics: MetricsPort;
  private readonly logger: Logger;
  /** The last counts seen per post (an `lru-cache`: the least recently used forgotten first). */
  private readonly cache: LRUCache<number, PostCounts>;
  private readonly retryAfterMs: number;
  private readonly warnIntervalMs: number;
  private readonly onFallback: (reason: 'failed' | 'skipped') => void;
  private readonly now: () => number;
  private skipUntil = 0;
  private probing = false;
  private down = false;
  private lastWarnAt = 0;
  private fallbacksSinceWarn = 0;

  constructor(o: CountsOptions) {
    this.metrics = o.metrics;
    this.logger = o.logger;
    this.cache = new LRUCache({ max: o.cacheSize ?? 10_000 });
    this.retryAfterMs = o.retryAfterMs ?? 1000;
    this.warnIntervalMs = o.warnIntervalMs ?? 30_000;
    this.onFallback = o.onFallback ?? (() => undefined);
    this.now = o.clock ?? Date.now;
  }

  /** Records a view; the answer includes it, unless metrics could not be reached. */
  async recordView(postId: number, viewerId: number, address?: string): Promise<PostCounts> {
    return (await this.tryRecordView(postId, viewerId, address)).counts;
  }

  /**
   * As recordView, and says whether this read counted a view: false when metrics answered that the
   * viewer was counted already within its window, or did not answer (down, slow past the deadline;
   * the view may or may not have been counted then). The caller tells its client so.
   */
  async tryRecordView(
    postId: number,
    viewerId: number,
    address?: string,
  ): Promise<{ counts: PostCounts; recorded: boolean }> {
    const answer = await this.attempt(() => this.metrics.recordView(postId, viewerId, address));
    if (answer === undefined) return { counts: this.known(postId), recorded: false };
    const counts: PostCounts = { likes: answer.likes, views: answer.views };
    this.cache.set(postId, counts);
    return { counts, recorded: answer.alreadyCounted !== true };
  }

  /** Counts of every post asked for, in one metrics call. */
  async countsOf(postIds: number[], viewerId: number): Promise<Map<number, PostCounts>> {
    const result = new Map<number, PostCounts>();
    if (postIds.length === 0) return result;
    const fetched = await this.attempt(() => this.metrics.getCounts(postIds, viewerId));
    for (const id of postIds) {
      const counts = fetched?.get(id);
      if (counts) this.cache.set(id, counts);
      result.set(id, counts ?? this.known(id));
    }
    return result;
  }

  /** Whether calls are currently skipped after a failure. */
  isSkipping(): boolean {
    return this.now() < this.skipUntil || this.probing;
  }

  private known(postId: number): PostCounts {
    return this.cache.get(postId) ?? NO_COUNTS;
  }

  private async attempt<T>(call: () => Promise<T>): Promise<T | undefined> {
    const now = this.now();
    // While skipping, and while one request is probing after the pause, the others do not wait.
    if (now < this.skipUntil || this.probing) {
      this.fellBack('skipped');
      return undefined;
    }
    const probe = this.down;
    if (probe) this.probing = true;
    try {
      const value = await call();
      this.reachable();
      return value;
    } catch (err) {
      if (isAnswer(err)) {
        // Metrics is up and refused this one call (say, a post it has not heard of yet).
        this.reachable();
        this.logger.debug(errorFields(err), 'metrics refused the call; serving last known counts');
        return undefined;
      }
      this.skipUntil = this.now() + this.retryAfterMs;
      this.fellBack('failed', err);
      return undefined;
    } finally {
      if (probe) this.probing = false;
    }
  }

  private reachable(): void {
    if (!this.down) return;
    this.logger.info({ fallbacks: this.fallbacksSinceWarn }, 'metrics reachable again');
    this.down = false;
    this.fallbacksSinceWarn = 0;
  }

  private fellBack(reason: 'failed' | 'skipped', err?: unknown): void {
    this.onFallback(reason);
    this.fallbacksSinceWarn += 1;
    const now = this.now();
    if (!this.down || now - this.lastWarnAt >= this.warnIntervalMs) {
      this.logger.warn(
        { ...(err === undefined ? {} : errorFields(err)), fallbacks: this.fallbacksSinceWarn },
        this.down
          ? 'metrics still unavailable; serving last known counts'
          : 'metrics unavailable; serving last known counts',
      );
      this.down = true;
      this.lastWarnAt = now;
      this.fallbacksSinceWarn = 0;
    }
  }
}
