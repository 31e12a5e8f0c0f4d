import { Topics, type EventEnvelope } from '@mpb/contracts';
import { createKafka, createKafkaMetrics, EventConsumer, parseBrokers, type KafkaClient } from '@mpb/kafka';
import type { Logger } from '@mpb/logger';
import type { ServiceMetrics } from '@mpb/service-kit';

/** Where the deletions of posts and comments arrive. */
export const CONSUMED_TOPICS = [Topics.posts, Topics.comments];

export interface ParentEventsConsumer {
  kafka: KafkaClient;
  consumer: EventConsumer;
}

/**
 * Consumes post and comment events (attachments publishes none). Topics and their dead-letter twins
 * are created on start, so a consumer that starts before posts or comments still finds them.
 */
export async function startParentEventsConsumer(o: {
  clientId: string;
  brokers: string;
  topicPrefix?: string;
  groupId: string;
  logger: Logger;
  metrics: ServiceMetrics;
  handle: (envelope: EventEnvelope) => Promise<void>;
  /** Called when kafkajs gives up on the consumer for good; default: log and exit 1. */
  onFatal?: (err: Error) => void;
}): Promise<ParentEventsConsumer> {
  const kafka = createKafka({
    clientId: o.clientId,
    brokers: parseBrokers(o.brokers),
    logger: o.logger,
    topicPrefix: o.topicPrefix,
  });
  const consumer = new EventConsumer({
    kafka,
    logger: o.logger,
    groupId: o.groupId,
    topics: CONSUMED_TOPICS,
    handle: o.handle,
    metrics: createKafkaMetrics(o.metrics.registry),
    onFatal: o.onFatal,
  });
  await consumer.start();
  return { kafka, consumer };
}
