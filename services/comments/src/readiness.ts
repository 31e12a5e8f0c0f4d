import type { Knex } from 'knex';
import { degradedOnFailure, dependencyChecks, type ReadinessCheck } from '@mpb/service-kit';
import type { EventPipeline } from './events/pipeline';

export interface ReadinessDeps {
  knex: Knex;
  events: Pick<EventPipeline, 'kafka' | 'producer' | 'relay' | 'consumer'>;
  outboxMaxLagSeconds: number;
  consumerMaxStallSeconds: number;
  /** When the service started; progress of the consumer is measured from here until its first event. */
  startedAt?: Date;
}

/**
 * /readyz: PostgreSQL and Redis reachable (else 503); Kafka, the outbox and the post-events consumer
 * making progress, or degraded (200 with the detail): comments are read and written without Kafka.
 */
export function readinessChecks(d: ReadinessDeps): Record<string, ReadinessCheck> {
  const startedAt = d.startedAt ?? new Date();
  return {
    ...dependencyChecks(d),
    consumer: degradedOnFailure(async () => {
      const consumer = d.events.consumer;
      if (!consumer?.status().running) throw new Error('post-events consumer not running');
      const { lastProcessedAt } = consumer.status();
      const idleSeconds = (Date.now() - (lastProcessedAt ?? startedAt).getTime()) / 1000;
      if (idleSeconds <= d.consumerMaxStallSeconds) return;
      // Quiet for a while: fine when nothing waits, stalled when events pile up unprocessed.
      const lag = await consumer.lag();
      if (lag > 0)
        throw new Error(`${lag} post events waiting, none processed for ${Math.round(idleSeconds)} s`);
    }),
  };
}
