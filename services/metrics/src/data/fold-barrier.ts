import type { Knex } from 'knex';

/**
 * How long an "already liked" / "hasn't liked" waits for the consumer to fold what Kafka already has
 * (MetricsService.settle); past it the request answers 503, nothing changed. The consumer normally
 * trails by milliseconds; a longer wait would only hold a request the client had better retry.
 */
export const FOLD_WAIT_MS = 1000;

export interface FoldBarrierOptions {
  /** Where each partition of the metrics topic ends now (KafkaClient.topicEnds). */
  ends: () => Promise<Map<number, { low: bigint; high: bigint }>>;
  /** The last offset the consumer folded into PostgreSQL, per partition of the same topic. */
  applied: () => Promise<Map<number, bigint>>;
  /** Gives up after this long: the caller then treats PostgreSQL as not yet trustworthy. */
  timeoutMs: number;
  pollMs?: number;
}

/**
 * Resolves once PostgreSQL holds every metric event Kafka had when it was called, or rejects after
 * `timeoutMs` (Kafka unreachable, the consumer stopped or behind). A set of likers copied from
 * PostgreSQL after Redis lost it (a flush, an eviction, a dropped hash) can be older than decisions
 * already acknowledged to clients: Kafka has them, the consumer has not folded them yet. Past this
 * barrier PostgreSQL has them.
 */
export function foldBarrier(o: FoldBarrierOptions): () => Promise<void> {
  const pollMs = o.pollMs ?? 25;
  return async () => {
    const deadline = Date.now() + o.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const ended = o.ends();
    ended.catch(() => undefined);
    const ends = await Promise.race([
      ended,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`topic ends unknown after ${o.timeoutMs} ms`)),
          o.timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    for (;;) {
      const applied = await o.applied();
      const behind = [...ends].filter(
        ([partition, { low, high }]) => high > low && (applied.get(partition) ?? -1n) < high - 1n,
      );
      if (behind.length === 0) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `metric events not folded yet after ${o.timeoutMs} ms (partitions ${behind.map(([p]) => p).join(', ')})`,
        );
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };
}

/** The offsets the consumer stored with its folds (`applied_offsets`), for one topic. */
export function appliedOffsets(knex: Knex, topic: string): () => Promise<Map<number, bigint>> {
  return async () => {
    const rows: Array<{ partition: number; applied_offset: string }> = await knex('applied_offsets')
      .select('partition', 'applied_offset')
      .where({ topic });
    return new Map(rows.map((r) => [Number(r.partition), BigInt(r.applied_offset)]));
  };
}
