import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import type { EventConsumer, EventProducer, KafkaClient } from '@mpb/kafka';
import {
  consumerProgressCheck,
  databaseCheck,
  degradedOnFailure,
  kafkaCheck,
  redisCheck,
  type ReadinessCheck,
} from '@mpb/service-kit';

export interface ReadinessDeps {
  knex: Knex;
  redis: Redis;
  kafka: KafkaClient;
  /** Present when this process serves the API. */
  producer?: EventProducer;
  /** Present when this process runs the consumers. */
  consumers?: EventConsumer[];
  /** CONSUMER_MAX_STALL_SECONDS. */
  consumerMaxStallSeconds: number;
  /** When the service started; a consumer's progress is measured from here until its first event. */
  startedAt?: Date;
}

/**
 * /readyz: PostgreSQL and Redis reachable (else 503). Kafka reachable and, where the consumers run,
 * each of them making progress (the kit's consumerProgressCheck: running, and not stalled with
 * events waiting for `consumerMaxStallSeconds`): else degraded (200 with the detail), since likes
 * and views are served from Redis while Kafka is away.
 */
export function readinessChecks(d: ReadinessDeps): Record<string, ReadinessCheck> {
  const checks: Record<string, ReadinessCheck> = {
    database: databaseCheck(d.knex),
    redis: redisCheck(d.redis),
    // A consumer-only process has no producer: the broker answering is what it needs.
    kafka: degradedOnFailure(
      d.producer ? kafkaCheck({ kafka: d.kafka, producer: d.producer }) : () => d.kafka.ping(1500),
    ),
  };
  const startedAt = d.startedAt ?? new Date();
  for (const consumer of d.consumers ?? []) {
    checks[`consumer ${consumer.groupId}`] = consumerProgressCheck(() => consumer, {
      maxStallSeconds: d.consumerMaxStallSeconds,
      startedAt,
    });
  }
  return checks;
}
