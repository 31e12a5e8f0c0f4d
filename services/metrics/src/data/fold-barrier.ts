import type { Knex } from 'knex';

/**
 * How long a reload of a post's likers waits for the consumer to fold what Kafka already has. Past
 * it the likers are copied all the same: a consumer that is down or far behind must not make likes
 * unavailable, and PostgreSQL then is the best there is (as before this wait existed).
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
 * `timeoutMs` (Kafka unreachable, the consumer stopped or behind). A set of likers copied from PostgreSQL after Redis lost it (a flush, a restart, an
 * eviction) is otherwise older than the decisions already acknowledged to clients: Kafka has them,
 * the consumer has not folded them yet, and a like answered 200 a moment ago would read back as
 * "not liked" and be decided again (a 400 for a valid request, or a state the fold then overturns).
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
