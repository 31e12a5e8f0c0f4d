import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import type { ReadinessCheck } from '@mpb/service-kit';
import type { EventPipeline } from './events/pipeline';

export interface ReadinessDeps {
  knex: Knex;
  redis: Redis;
  events: Pick<EventPipeline, 'kafka' | 'producer' | 'relay'>;
  outboxMaxLagSeconds: number;
}

/**
 * /readyz: every dependency reachable and the outbox draining, not stuck. Metrics is deliberately
 * not checked: posts are served without it (with their last known counts).
 */
export function readinessChecks(d: ReadinessDeps): Record<string, ReadinessCheck> {
  return {
    database: () => d.knex.raw('select 1'),
    redis: () => d.redis.ping(),
    kafka: async () => {
      if (!d.events.producer.isConnected()) throw new Error('producer not connected');
      await d.events.kafka.ping(1500);
    },
    outbox: async () => {
      const { count, oldestAgeSeconds } = await d.events.relay.backlog();
      if (oldestAgeSeconds > d.outboxMaxLagSeconds) {
        throw new Error(`${count} events unpublished, oldest ${Math.round(oldestAgeSeconds)} s old`);
      }
    },
  };
}
