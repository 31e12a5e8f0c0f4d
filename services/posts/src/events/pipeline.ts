import type { Knex } from 'knex';
import { Topics } from '@mpb/contracts';
import {
  createKafka,
  createKafkaMetrics,
  EventProducer,
  ensureTopics,
  OutboxRelay,
  parseBrokers,
  type KafkaClient,
} from '@mpb/kafka';
import type { Logger } from '@mpb/logger';
import type { ServiceMetrics } from '@mpb/service-kit';

export interface EventPipeline {
  kafka: KafkaClient;
  producer: EventProducer;
  relay: OutboxRelay;
}

export interface EventPipelineOptions {
  clientId: string;
  brokers: string;
  knex: Knex;
  logger: Logger;
  metrics: ServiceMetrics;
}

/** The topics posts publishes to; created at start so a misspelt topic fails loudly instead. */
export const POSTS_TOPICS = [Topics.posts];

/** Creates posts' topics, connects the producer and starts relaying the outbox to Kafka. */
export async function startEventPipeline(o: EventPipelineOptions): Promise<EventPipeline> {
  const kafka = createKafka({ clientId: o.clientId, brokers: parseBrokers(o.brokers), logger: o.logger });
  await ensureTopics(kafka, POSTS_TOPICS);
  const kafkaMetrics = createKafkaMetrics(o.metrics.registry);
  const producer = new EventProducer({ kafka, logger: o.logger, metrics: kafkaMetrics });
  await producer.connect();
  const relay = new OutboxRelay({ knex: o.knex, producer, logger: o.logger, metrics: kafkaMetrics });
  relay.start();
  return { kafka, producer, relay };
}
