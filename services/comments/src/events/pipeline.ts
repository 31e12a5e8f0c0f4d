import type { Knex } from 'knex';
import { Topics, type EventEnvelope } from '@mpb/contracts';
import {
  createKafka,
  createKafkaMetrics,
  EventConsumer,
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
  /** Present once startConsumer ran. */
  consumer?: EventConsumer;
  /** Subscribes to post events; call it once the service can handle them. */
  startConsumer(handle: (envelope: EventEnvelope) => Promise<void>): Promise<EventConsumer>;
  /** Stops consuming, then relaying, then producing: in-flight work finishes first. */
  stop(): Promise<void>;
}

export interface EventPipelineOptions {
  clientId: string;
  brokers: string;
  topicPrefix?: string;
  groupId: string;
  knex: Knex;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Called when kafkajs gives up on the consumer for good; default: log and exit 1. */
  onConsumerFatal?: (err: Error) => void;
}

/** The topic comments publishes to; created at start so a misspelt topic fails loudly instead. */
export const COMMENTS_TOPICS = [Topics.comments];
/** The topics comments consumes (their dead-letter twins are created with them). */
export const CONSUMED_TOPICS = [Topics.posts];

/** Creates the topics, connects the producer, starts relaying the outbox; the consumer starts later. */
export async function startEventPipeline(o: EventPipelineOptions): Promise<EventPipeline> {
  const kafka = createKafka({
    clientId: o.clientId,
    brokers: parseBrokers(o.brokers),
    logger: o.logger,
    topicPrefix: o.topicPrefix,
  });
  await ensureTopics(kafka, [...COMMENTS_TOPICS, ...CONSUMED_TOPICS]);
  const kafkaMetrics = createKafkaMetrics(o.metrics.registry);
  const producer = new EventProducer({ kafka, logger: o.logger, metrics: kafkaMetrics });
  await producer.connect();
  const relay = new OutboxRelay({ knex: o.knex, producer, logger: o.logger, metrics: kafkaMetrics });
  relay.start();

  const pipeline: EventPipeline = {
    kafka,
    producer,
    relay,
    async startConsumer(handle) {
      if (pipeline.consumer) throw new Error('the post-events consumer is already started');
      const consumer = new EventConsumer({
        kafka,
        logger: o.logger,
        groupId: o.groupId,
        topics: CONSUMED_TOPICS,
        handle,
        metrics: kafkaMetrics,
        onFatal: o.onConsumerFatal,
        ensureTopics: false,
      });
      pipeline.consumer = consumer;
      await consumer.start();
      return consumer;
    },
    async stop() {
      await pipeline.consumer?.stop();
      await relay.stop();
      await producer.disconnect();
    },
  };
  return pipeline;
}
