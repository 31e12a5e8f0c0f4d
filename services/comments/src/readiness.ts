import type { Knex } from 'knex';
import { consumerProgressCheck, dependencyChecks, type ReadinessCheck } from '@mpb/service-kit';
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
 * /readyz: PostgreSQL reachable (else 503); Kafka, the outbox and the post-events consumer making
 * progress (the kit's consumerProgressCheck), or degraded (200 with the detail): comments are read
 * and written without Kafka.
 */
export function readinessChecks(d: ReadinessDeps): Record<string, ReadinessCheck> {
  return {
    ...dependencyChecks(d),
    consumer: consumerProgressCheck(() => d.events.consumer, {
      maxStallSeconds: d.consumerMaxStallSeconds,
      startedAt: d.startedAt ?? new Date(),
    }),
  };
}
