import type { Knex } from 'knex';
import { Topics, type EventEnvelope } from '@mpb/contracts';
import {
  EventConsumer,
  LedgerPruner,
  pruneProcessedEvents,
  startOutboxPipeline,
  type EventProducer,
  type KafkaClient,
  type KafkaClusterSettings,
  type OutboxLimits,
  type OutboxRelay,
} from '@mpb/kafka';
import type { Logger } from '@mpb/logger';
import type { ServiceMetrics } from '@mpb/service-kit';

export interface EventPipeline {
  kafka: KafkaClient;
  producer: EventProducer;
  relay: OutboxRelay;
  /** Deletes processed-event ids past the retention (published outbox rows go with the relay). */
  pruner: LedgerPruner;
  /** Present once startConsumer ran. */
  consumer?: EventConsumer;
  /**
   * Subscribes to post events; call it once the service can handle them. Returns at once: the
   * consumer joins its group now, or as soon as Kafka answers (see `consumer.status().running`).
   */
  startConsumer(handle: (envelope: EventEnvelope) => Promise<void>): Promise<EventConsumer>;
  /** Stops consuming, then relaying, then producing: in-flight work finishes first. */
  stop(): Promise<void>;
}

/** Limits and retention default to values that fit a default broker (`outboxLimitsOf(config)` in main.ts). */
export interface EventPipelineOptions extends OutboxLimits {
  clientId: string;
  brokers: string;
  topicPrefix?: string;
  /** Replication of the created topics and producer idempotence (`kafkaClusterOf(config)`). */
  cluster?: KafkaClusterSettings;
  groupId: string;
  knex: Knex;
  logger: Logger;
  metrics: ServiceMetrics;
}

/** The topic comments publishes to; created before the producer connects, so a misspelt topic fails loudly. */
export const COMMENTS_TOPICS = [Topics.comments];
/** The topics comments consumes (their dead-letter twins are created with them). */
export const CONSUMED_TOPICS = [Topics.posts];

/**
 * Starts relaying the outbox; the topics and the producer's connection follow in the background (at
 * once when Kafka answers), so comments starts and serves while Kafka is down.
 */
export async function startEventPipeline(o: EventPipelineOptions): Promise<EventPipeline> {
  const {
    kafka,
    producer,
    relay,
    metrics: kafkaMetrics,
  } = await startOutboxPipeline({
    ...o,
    registry: o.metrics.registry,
    topics: [...COMMENTS_TOPICS, ...CONSUMED_TOPICS],
  });
  // Processed ids must outlive Kafka's redeliveries: the default is the service kit's, 8 days.
  const retentionMs = o.retentionMs ?? 192 * 3600 * 1000;
  const pruner = new LedgerPruner({
    logger: o.logger,
    tasks: { processed_events: () => pruneProcessedEvents(o.knex, retentionMs) },
  });
  pruner.start();

  const pipeline: EventPipeline = {
    kafka,
    producer,
    relay,
    pruner,
    async startConsumer(handle) {
      if (pipeline.consumer) throw new Error('the post-events consumer is already started');
      const consumer = new EventConsumer({
        kafka,
        logger: o.logger,
        groupId: o.groupId,
        topics: CONSUMED_TOPICS,
        handle,
        metrics: kafkaMetrics,
      });
      pipeline.consumer = consumer;
      consumer.startInBackground();
      return consumer;
    },
    async stop() {
      await pipeline.consumer?.stop();
      await pruner.stop();
      await relay.stop();
      await producer.disconnect();
    },
  };
  return pipeline;
}
