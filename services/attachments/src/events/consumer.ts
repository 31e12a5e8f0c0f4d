import { Topics, type EventEnvelope } from '@mpb/contracts';
import type { Knex } from 'knex';
import {
  createKafka,
  createKafkaMetrics,
  EventConsumer,
  LedgerPruner,
  parseBrokers,
  pruneProcessedEvents,
  type KafkaClient,
  type KafkaClusterSettings,
} from '@mpb/kafka';
import type { Logger } from '@mpb/logger';
import type { ServiceMetrics } from '@mpb/service-kit';

/** Where the deletions of posts and comments arrive. */
export const CONSUMED_TOPICS = [Topics.posts, Topics.comments];

export interface ParentEventsConsumer {
  kafka: KafkaClient;
  consumer: EventConsumer;
  /** Deletes processed-event ids past the retention. */
  pruner: LedgerPruner;
  /** Stops consuming (the event in flight finishes), then pruning. */
  stop(): Promise<void>;
}

/**
 * Consumes post and comment events (attachments publishes none). Topics and their dead-letter twins
 * are created on start, so a consumer that starts before posts or comments still finds them. Returns
 * at once: the consumer joins its group now, or as soon as Kafka answers.
 */
export function startParentEventsConsumer(o: {
  knex: Knex;
  /** Processed-event ids are kept this long (LEDGER_RETENTION_HOURS); beyond every redelivery. */
  retentionMs: number;
  clientId: string;
  brokers: string;
  topicPrefix?: string;
  /** Replication of the created topics (`kafkaClusterOf(config)`). */
  cluster?: KafkaClusterSettings;
  groupId: string;
  logger: Logger;
  metrics: ServiceMetrics;
  handle: (envelope: EventEnvelope) => Promise<void>;
}): Promise<ParentEventsConsumer> {
  const kafka = createKafka({
    clientId: o.clientId,
    brokers: parseBrokers(o.brokers),
    logger: o.logger,
    topicPrefix: o.topicPrefix,
    cluster: o.cluster,
  });
  const consumer = new EventConsumer({
    kafka,
    logger: o.logger,
    groupId: o.groupId,
    topics: CONSUMED_TOPICS,
    handle: o.handle,
    metrics: createKafkaMetrics(o.metrics.registry),
  });
  consumer.startInBackground();
  const pruner = new LedgerPruner({
    logger: o.logger,
    tasks: { processed_events: () => pruneProcessedEvents(o.knex, o.retentionMs) },
  });
  pruner.start();
  return Promise.resolve({
    kafka,
    consumer,
    pruner,
    async stop() {
      await consumer.stop();
      await pruner.stop();
    },
  });
}
