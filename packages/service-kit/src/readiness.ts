import type { Knex } from 'knex';
import { CLIENT_TIMEOUTS } from './clients';
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
    await k.kafka.ping(CLIENT_TIMEOUTS.kafka.pingMs);
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

/** The parts of an event consumer (kafka's EventConsumer) its readiness check reads. */
export interface ConsumerProgress {
  status(): { running: boolean; lastProcessedAt: Date | null };
  /** Events on its partitions not committed yet. */
  lag(): Promise<number>;
}

export interface ConsumerProgressOptions {
  /** How long events may wait with none processed before the consumer counts as stalled. */
  maxStallSeconds: number;
  /** When the service started: progress is measured from here until the first event is processed. */
  startedAt: Date;
  now?: () => number;
}

/**
 * The one readiness rule for event consumers: a consumer is fine while it runs and makes progress.
 * It is stalled when events wait (lag above 0) and none was processed for `maxStallSeconds`; quiet
 * with nothing waiting is fine, and so is a long backlog that is being worked through. Failures are
 * degraded, not unready: every service answers its API while its consumers catch up. `consumer` is
 * read at each check, so a consumer started after the app was built is seen once it exists.
 */
export const consumerProgressCheck = (
  consumer: () => ConsumerProgress | undefined,
  o: ConsumerProgressOptions,
): ReadinessCheck =>
  degradedOnFailure(async () => {
    const c = consumer();
    const status = c?.status();
    if (!c || !status?.running) throw new Error('consumer not running');
    const now = o.now?.() ?? Date.now();
    const idleSeconds = (now - (status.lastProcessedAt ?? o.startedAt).getTime()) / 1000;
    if (idleSeconds <= o.maxStallSeconds) return;
    const lag = await c.lag();
    if (lag > 0) throw new Error(`${lag} events waiting, none processed for ${Math.round(idleSeconds)} s`);
  });

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
