import type { Knex } from 'knex';
import type { ReadinessCheck } from './http/app';

/** The parts of a Kafka client and producer a readiness check needs (service-kit stays free of kafkajs). */
export interface KafkaReachability {
  kafka: { ping(timeoutMs?: number): Promise<unknown> };
  producer: { isConnected(): boolean };
}

/** The outbox relay's view of what waits to be published. */
export interface OutboxBacklogSource {
  backlog(): Promise<{ count: number; oldestAgeSeconds: number }>;
}

/** The database answers a trivial query. */
export const databaseCheck =
  (knex: Knex): ReadinessCheck =>
  () =>
    knex.raw('select 1');

/** Redis answers PING. */
export const redisCheck =
  (redis: { ping(): Promise<unknown> }): ReadinessCheck =>
  () =>
    redis.ping();

/** The producer is connected and a broker answers. */
export const kafkaCheck =
  (k: KafkaReachability): ReadinessCheck =>
  async () => {
    if (!k.producer.isConnected()) throw new Error('producer not connected');
    await k.kafka.ping(1500);
  };

/** The outbox drains: its oldest unpublished event is no older than the allowed lag. */
export const outboxLagCheck =
  (relay: OutboxBacklogSource, maxLagSeconds: number): ReadinessCheck =>
  async () => {
    const { count, oldestAgeSeconds } = await relay.backlog();
    if (oldestAgeSeconds > maxLagSeconds) {
      throw new Error(`${count} events unpublished, oldest ${Math.round(oldestAgeSeconds)} s old`);
    }
  };

export interface DependencyCheckDeps {
  knex: Knex;
  events: KafkaReachability & { relay: OutboxBacklogSource };
  outboxMaxLagSeconds: number;
}

/** /readyz for a service with a database and an outbox to Kafka: each reachable, the outbox draining. */
export function dependencyChecks(d: DependencyCheckDeps): Record<string, ReadinessCheck> {
  return {
    database: databaseCheck(d.knex),
    kafka: kafkaCheck(d.events),
    outbox: outboxLagCheck(d.events.relay, d.outboxMaxLagSeconds),
  };
}
