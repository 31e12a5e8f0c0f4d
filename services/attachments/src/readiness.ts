import type { Knex } from 'knex';
import {
  consumerProgressCheck,
  databaseCheck,
  degradedOnFailure,
  type ReadinessCheck,
} from '@mpb/service-kit';
import type { EventConsumer } from '@mpb/kafka';

export interface ReadinessDeps {
  knex: Knex;
  kafka: { ping(timeoutMs?: number): Promise<unknown> };
  /** The bucket answers HeadBucket with these credentials. */
  storage: { ping(): Promise<void> };
  /** Read at each check: the consumer starts after the app is built. */
  consumer: Pick<EventConsumer, 'status' | 'lag'> | undefined;
  consumerMaxStallSeconds: number;
  startedAt?: Date;
}

/**
 * /readyz: database and the bucket reachable (else 503); Kafka reachable and the events consumer
 * making progress (the kit's consumerProgressCheck), or degraded (200 with the detail): uploads and
 * downloads work without Kafka, and the deletions it carries are applied once it is back.
 */
export function readinessChecks(d: ReadinessDeps): Record<string, ReadinessCheck> {
  return {
    database: databaseCheck(d.knex),
    kafka: degradedOnFailure(() => d.kafka.ping(1500)),
    storage: () => d.storage.ping(),
    consumer: consumerProgressCheck(() => d.consumer, {
      maxStallSeconds: d.consumerMaxStallSeconds,
      startedAt: d.startedAt ?? new Date(),
    }),
  };
}
