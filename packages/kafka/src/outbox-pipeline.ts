import type { Knex } from 'knex';
import type { Registry } from 'prom-client';
import type { Logger } from '@mpb/logger';
import { createKafka, parseBrokers, type KafkaClient, type KafkaClusterSettings } from './kafka';
import { createKafkaMetrics, type KafkaMetrics } from './metrics';
import { OutboxRelay } from './outbox';
import { EventProducer } from './producer';
import { ensureTopics } from './topics';

export interface OutboxPipeline {
  kafka: KafkaClient;
  producer: EventProducer;
  relay: OutboxRelay;
  metrics: KafkaMetrics;
  /** Resolves once the topics exist and the producer is connected (at once when Kafka answers). */
  connected: Promise<void>;
}

/** Size limits and retention of an outbox pipeline; every key has a default that fits a default broker. */
export interface OutboxLimits {
  /** Most bytes one request to Kafka carries. Default 900 KiB (brokers accept 1 MiB by default). */
  maxBatchBytes?: number;
  /** An event larger than this is parked, never sent. Default 256 KiB. */
  maxEventBytes?: number;
  /** Published outbox rows are deleted after this long. Default one day. */
  retentionMs?: number;
}

export interface OutboxPipelineOptions extends OutboxLimits {
  clientId: string;
  /** Comma-separated host:port list, as services configure it. */
  brokers: string;
  /** KAFKA_TOPIC_PREFIX: put before every topic name. */
  topicPrefix?: string;
  /** Replication of the created topics and producer idempotence (KAFKA_REPLICATION_FACTOR, ...). */
  cluster?: KafkaClusterSettings;
  knex: Knex;
  logger: Logger;
  registry: Registry;
  /** The topics the service publishes to; created before the producer connects. */
  topics: string[];
  /** The service's Kafka client, when it has one already; else one is made from clientId and brokers. */
  kafka?: KafkaClient;
  /** The service's Kafka metrics, when it has them already (a registry takes each metric once). */
  metrics?: KafkaMetrics;
}

/**
 * A publishing service's event path: its topics, a producer and the outbox relay running. It does not
 * wait for Kafka: writes go to the outbox meanwhile, and the relay publishes them once the producer
 * has connected (retried with backoff in the background), so a service starts during a Kafka outage.
 */
export function startOutboxPipeline(o: OutboxPipelineOptions): Promise<OutboxPipeline> {
  const kafka =
    o.kafka ??
    createKafka({
      clientId: o.clientId,
      brokers: parseBrokers(o.brokers),
      logger: o.logger,
      topicPrefix: o.topicPrefix,
      cluster: o.cluster,
    });
  const metrics = o.metrics ?? createKafkaMetrics(o.registry);
  const producer = new EventProducer({
    kafka,
    logger: o.logger,
    metrics,
    maxBatchBytes: o.maxBatchBytes,
    maxMessageBytes: o.maxEventBytes,
  });
  const connected = producer.connectInBackground(() => ensureTopics(kafka, o.topics));
  const relay = new OutboxRelay({
    knex: o.knex,
    producer,
    logger: o.logger,
    metrics,
    maxBatchBytes: o.maxBatchBytes,
    maxEventBytes: o.maxEventBytes,
    retentionMs: o.retentionMs,
  });
  relay.start();
  return Promise.resolve({ kafka, producer, relay, metrics, connected });
}
