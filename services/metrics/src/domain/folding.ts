import type { Logger } from '@mpb/logger';
import type { MetricEvent } from './events';
import type { CounterCache, FoldLedger, FoldOutcome, PostDirectory } from './ports';

export interface CounterFolderDeps {
  ledger: FoldLedger;
  cache: CounterCache;
  /** Present when the API runs in the same process: a deleted post is forgotten at once. */
  posts?: PostDirectory;
  logger: Logger;
  /** Told about every batch folded (for the service's Prometheus metrics). */
  onFold?: (outcome: FoldOutcome, seconds: number) => void;
}

/**
 * The consumer's work: batches of metric events into PostgreSQL exactly once, then the folded state
 * into Redis; post deletions into both.
 */
export class CounterFolder {
  constructor(private readonly d: CounterFolderDeps) {}

  /**
   * Applies the batch (skipping what an earlier delivery applied), then pushes the folded snapshots
   * and like states to Redis. The push also covers skipped events (read back from PostgreSQL), so a
   * crash between the PostgreSQL commit and the push is repaired by the redelivery. Errors propagate:
   * the consumer retries the batch without advancing its offsets.
   */
  async fold(topic: string, partition: number, events: MetricEvent[]): Promise<FoldOutcome> {
    const started = process.hrtime.bigint();
    const outcome = await this.d.ledger.apply(topic, partition, events);
    const { snapshots, likers } = outcome;
    if (outcome.skipped > 0) {
      const stale = await this.readState(events.slice(0, outcome.skipped));
      for (const [postId, snapshot] of stale.snapshots)
        if (!snapshots.has(postId)) snapshots.set(postId, snapshot);
      likers.push(...stale.likers);
    }
    await this.d.cache.pushFolded(
      [...snapshots].map(([postId, snapshot]) => ({ postId, snapshot })),
      likers,
    );
    this.d.onFold?.(outcome, Number(process.hrtime.bigint() - started) / 1e9);
    return outcome;
  }

  async removePost(postId: number): Promise<void> {
    await this.d.ledger.deletePost(postId);
    await this.d.cache.forgetPost(postId);
    this.d.posts?.forget(postId);
    this.d.logger.info({ post_id: postId }, 'counters of a deleted post removed');
  }

  /** The stored state of what already-applied events touched (a redelivery after a crash). */
  private async readState(events: MetricEvent[]): Promise<Pick<FoldOutcome, 'snapshots' | 'likers'>> {
    const postIds = [...new Set(events.map((e) => e.postId))];
    const pairs = new Map<string, { postId: number; userId: number }>();
    for (const e of events) {
      if (e.kind !== 'view') pairs.set(`${e.postId}:${e.userId}`, { postId: e.postId, userId: e.userId });
    }
    const [snapshots, likers] = await Promise.all([
      this.d.ledger.snapshots(postIds),
      pairs.size > 0 ? this.d.ledger.likeStates([...pairs.values()]) : Promise.resolve([]),
    ]);
    return { snapshots, likers };
  }
}
