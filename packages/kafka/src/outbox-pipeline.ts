import type { Knex } from 'knex';
import type { Registry } from 'prom-client';
import type { Logger } from '@mpb/logger';
import { createKafka, parseBrokers, type KafkaClient } from './kafka';
import { createKafkaMetrics } from './metrics';
import { OutboxRelay } from './outbox';
import { EventProducer } from './producer';
import { ensureTopics } from './topics';

export interface OutboxPipeline {
  kafka: KafkaClient;
  producer: EventProducer;
  relay: OutboxRelay;
}

export interface OutboxPipelineOptions {
  clientId: string;
  /** Comma-separated host:port list, as services configure it. */
  brokers: string;
  /** KAFKA_TOPIC_PREFIX: put before every topic name. */
  topicPrefix?: string;
  knex: Knex;
  logger: Logger;
  registry: Registry;
  /** The topics the service publishes to; created at start so a misspelt topic fails loudly. */
  topics: string[];
}

/** A publishing service's event path: its topics, a connected producer, and the outbox relay running. */
export async function startOutboxPipeline(o: OutboxPipelineOptions): Promise<OutboxPipeline> {
  const kafka = createKafka({
    clientId: o.clientId,
    brokers: parseBrokers(o.brokers),
    logger: o.logger,
    topicPrefix: o.topicPrefix,
  });
  await ensureTopics(kafka, o.topics);
  const metrics = createKafkaMetrics(o.registry);
  const producer = new EventProducer({ kafka, logger: o.logger, metrics });
  await producer.connect();
  const relay = new OutboxRelay({ knex: o.knex, producer, logger: o.logger, metrics });
  relay.start();
  return { kafka, producer, relay };
}
