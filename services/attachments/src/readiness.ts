import type { Knex } from 'knex';
import { databaseCheck, degradedOnFailure, type ReadinessCheck } from '@mpb/service-kit';
import type { EventConsumer } from '@mpb/kafka';

export interface ReadinessDeps {
  knex: Knex;
  kafka: { ping(timeoutMs?: number): Promise<unknown> };
  /** The bucket answers HeadBucket with these credentials. */
  storage: { ping(): Promise<void> };
  consumer: Pick<EventConsumer, 'status' | 'lag'> | undefined;
  consumerMaxStallSeconds: number;
  startedAt?: Date;
}

/**
 * /readyz: database and the bucket reachable (else 503); Kafka reachable and the events
 * consumer making progress, or degraded (200 with the detail): uploads and downloads work without
 * Kafka, and the deletions it carries are applied once it is back.
 */
export function readinessChecks(d: ReadinessDeps): Record<string, ReadinessCheck> {
  const startedAt = d.startedAt ?? new Date();
  return {
    database: databaseCheck(d.knex),
    kafka: degradedOnFailure(() => d.kafka.ping(1500)),
    storage: () => d.storage.ping(),
    consumer: degradedOnFailure(async () => {
      if (!d.consumer?.status().running) throw new Error('events consumer not running');
      const { lastProcessedAt } = d.consumer.status();
      const idleSeconds = (Date.now() - (lastProcessedAt ?? startedAt).getTime()) / 1000;
      if (idleSeconds <= d.consumerMaxStallSeconds) return;
      const lag = await d.consumer.lag();
      if (lag > 0) throw new Error(`${lag} events waiting, none processed for ${Math.round(idleSeconds)} s`);
    }),
  };
}
