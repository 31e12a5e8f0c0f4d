import type { Knex } from 'knex';
import { degradedOnFailure, type ReadinessCheck } from './http/app';

/** The parts of a Kafka client and producer a readiness check needs (service-kit stays free of kafkajs). */
export interface KafkaReachability {
  kafka: { ping(timeoutMs?: number): Promise<unknown> };
  producer: { isConnected(): boolean };
}

/** The outbox relay's view of what waits to be published. */
export interface OutboxBacklogSource {
  backlog(): Promise<{ count: number; oldestAgeSeconds: number; parked?: number }>;
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

/** The outbox drains: its oldest unpublished event is no older than the allowed lag, none is parked. */
export const outboxLagCheck =
  (relay: OutboxBacklogSource, maxLagSeconds: number): ReadinessCheck =>
  async () => {
    const { count, oldestAgeSeconds, parked = 0 } = await relay.backlog();
    const problems: string[] = [];
    if (oldestAgeSeconds > maxLagSeconds) {
      problems.push(`${count} events unpublished, oldest ${Math.round(oldestAgeSeconds)} s old`);
    }
    if (parked > 0) problems.push(`${parked} events parked (can never be sent)`);
    if (problems.length > 0) throw new Error(problems.join('; '));
  };

export interface DependencyCheckDeps {
  knex: Knex;
  events: KafkaReachability & { relay: OutboxBacklogSource };
  outboxMaxLagSeconds: number;
}

/**
 * /readyz for a service with a database and an outbox to Kafka. PostgreSQL down: not
 * ready (503). Kafka down or the outbox lagging: degraded (200 with the detail), because reads and
 * writes go on without Kafka (the outbox keeps the events until Kafka is back): a Kafka outage must
 * not take every replica out of the load balancer.
 */
export function dependencyChecks(d: DependencyCheckDeps): Record<string, ReadinessCheck> {
  return {
    database: databaseCheck(d.knex),
    kafka: degradedOnFailure(kafkaCheck(d.events)),
    outbox: degradedOnFailure(outboxLagCheck(d.events.relay, d.outboxMaxLagSeconds)),
  };
}
