import { EventTypes } from '@mpb/contracts';
import { EventConsumer, parseEnvelopeFast, type KafkaClient, type KafkaMetrics } from '@mpb/kafka';
import type { Logger } from '@mpb/logger';
import { deletedPostOf, toMetricEvent } from '../domain/events';
import type { CounterFolder } from '../domain/folding';

export interface ConsumerOptions {
  kafka: KafkaClient;
  logger: Logger;
  metrics: KafkaMetrics;
  /** What to do when kafkajs gives the consumer up (the service kit's decision). */
  onFatal: (err: Error) => void;
  folder: CounterFolder;
  sessionTimeoutMs?: number;
}

/** Heartbeats often enough that two can be missed within the session timeout. */
const sessionOptions = (sessionTimeoutMs = 30_000) => ({
  sessionTimeout: sessionTimeoutMs,
  heartbeatInterval: Math.min(3000, Math.floor(sessionTimeoutMs / 5)),
});

/**
 * Folds the metrics topic into PostgreSQL in batches (see CounterFolder). Invalid messages and
 * events metrics cannot fold are parked in `<topic>.dlt`; a failing database or Redis is retried
 * with backoff without advancing the offsets.
 */
export function createCounterConsumer(
  o: ConsumerOptions & {
    topic: string;
    groupId: string;
    batchSize: number;
    fetchMinBytes?: number;
    fetchMaxWaitMs?: number;
  },
): EventConsumer {
  return new EventConsumer({
    kafka: o.kafka,
    logger: o.logger,
    metrics: o.metrics,
    onFatal: o.onFatal,
    ...sessionOptions(o.sessionTimeoutMs),
    groupId: o.groupId,
    topics: [o.topic],
    maxBatchSize: o.batchSize,
    minBytes: o.fetchMinBytes,
    maxWaitTimeInMs: o.fetchMaxWaitMs,
    // Every message of the hot topic is validated; the fast parser accepts and refuses the same ones.
    parseEnvelope: parseEnvelopeFast,
    // One partition per transaction at a time per partition; partitions fold in parallel.
    partitionsConsumedConcurrently: 3,
    handleBatch: async (events, ctx) => {
      const batch = events.map((e) => toMetricEvent(e.envelope, e.meta.offset));
      await ctx.heartbeat();
      await o.folder.fold(ctx.topic, ctx.partition, batch);
    },
  });
}

/** Removes the counters of deleted posts; the other post events are not metrics' business. */
export function createPostDeletionConsumer(
  o: ConsumerOptions & { topic: string; groupId: string },
): EventConsumer {
  return new EventConsumer({
    kafka: o.kafka,
    logger: o.logger,
    metrics: o.metrics,
    onFatal: o.onFatal,
    ...sessionOptions(o.sessionTimeoutMs),
    groupId: o.groupId,
    topics: [o.topic],
    handle: async (envelope) => {
      if (envelope.type !== EventTypes.PostDeleted) return;
      await o.folder.removePost(deletedPostOf(envelope));
    },
  });
}
