import type { Knex } from 'knex';
import { Topics } from '@mpb/contracts';
import {
  startOutboxPipeline,
  type KafkaClusterSettings,
  type OutboxLimits,
  type OutboxPipeline,
} from '@mpb/kafka';
import type { Logger } from '@mpb/logger';
import type { ServiceMetrics } from '@mpb/service-kit';

export type EventPipeline = OutboxPipeline;

/** Limits and retention default to values that fit a default broker (`outboxLimitsOf(config)` in main.ts). */
export interface EventPipelineOptions extends OutboxLimits {
  clientId: string;
  brokers: string;
  topicPrefix?: string;
  /** Replication of the created topics and producer idempotence (`kafkaClusterOf(config)`). */
  cluster?: KafkaClusterSettings;
  knex: Knex;
  logger: Logger;
  metrics: ServiceMetrics;
}

/** The topics auth publishes to. */
export const AUTH_TOPICS = [Topics.users];

/** Starts relaying the outbox; auth's topics and the producer's connection follow in the background. */
export const startEventPipeline = ({ metrics, ...o }: EventPipelineOptions): Promise<EventPipeline> =>
  startOutboxPipeline({ ...o, registry: metrics.registry, topics: AUTH_TOPICS });
