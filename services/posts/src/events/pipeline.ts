import type { Knex } from 'knex';
import { Topics } from '@mpb/contracts';
import { startOutboxPipeline, type OutboxPipeline } from '@mpb/kafka';
import type { Logger } from '@mpb/logger';
import type { ServiceMetrics } from '@mpb/service-kit';

export type EventPipeline = OutboxPipeline;

export interface EventPipelineOptions {
  clientId: string;
  brokers: string;
  topicPrefix?: string;
  knex: Knex;
  logger: Logger;
  metrics: ServiceMetrics;
}

/** The topics posts publishes to. */
export const POSTS_TOPICS = [Topics.posts];

/** Creates posts' topics, connects the producer and starts relaying the outbox to Kafka. */
export const startEventPipeline = ({ metrics, ...o }: EventPipelineOptions): Promise<EventPipeline> =>
  startOutboxPipeline({ ...o, registry: metrics.registry, topics: POSTS_TOPICS });
