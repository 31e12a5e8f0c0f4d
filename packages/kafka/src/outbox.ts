import type { Knex } from 'knex';
import type { EventEnvelope } from '@mpb/contracts';
import type { Logger } from '@mpb/logger';
import { backoffDelay, Sleeper, type BackoffOptions } from './backoff';
import type { KafkaMetrics } from './metrics';
import { topicOfEnvelope, type EventProducer } from './producer';

export const OUTBOX_TABLE = 'outbox';

export interface OutboxTableOptions {
  /** Table name (no schema prefix); default `outbox`. */
  table?: string;
}

const checkName = (name: string): string => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid table name "${name}"`);
  return name;
};

/**
 * Creates the outbox table for a service's migration; safe to run twice.
 * `seq` gives rows their insertion order: several events written in one transaction share
 * `created_at` (now() is the transaction's start), and the relay must publish them in the order written.
 */
export async function createOutboxTable(
  knex: Knex,
  { table = OUTBOX_TABLE }: OutboxTableOptions = {},
): Promise<void> {
  const t = checkName(table);
  await knex.raw(`
    create table if not exists ${t} (
      id uuid primary key,
      seq bigint generated always as identity,
      topic text not null,
      key text not null,
      type text not null,
      envelope jsonb not null,
      created_at timestamptz not null default now(),
      published_at timestamptz null
    )`);
  await knex.raw(`create index if not exists ${t}_unpublished_idx on ${t} (seq) where published_at is null`);
  await knex.raw(
    `create index if not exists ${t}_published_at_idx on ${t} (published_at) where published_at is not null`,
  );
}

export async function dropOutboxTable(
  knex: Knex,
  { table = OUTBOX_TABLE }: OutboxTableOptions = {},
): Promise<void> {
  await knex.raw(`drop table if exists ${checkName(table)}`);
}

export interface WriteOutboxOptions extends OutboxTableOptions {
  /** Publish to this topic instead of the event type's. */
  topic?: string;
}

/**
 * Records events in the caller's transaction, next to the change they describe: both commit or
 * neither does. The relay publishes them afterwards.
 */
export async function writeOutbox(
  trx: Knex.Transaction,
  envelopes: EventEnvelope<unknown> | EventEnvelope<unknown>[],
  options: WriteOutboxOptions = {},
): Promise<void> {
  const list = Array.isArray(envelopes) ? envelopes : [envelopes];
  if (list.length === 0) return;
  const rows = list.map((e) => ({
    id: e.id,
    topic: options.topic ?? topicOfEnvelope(e),
    key: e.aggregate_id,
    type: e.type,
    envelope: JSON.stringify(e),
  }));
  await trx(checkName(options.table ?? OUTBOX_TABLE)).insert(rows);
}

export interface OutboxBacklog {
  count: number;
  /** Age of the oldest unpublished row; 0 when there is none. */
  oldestAgeSeconds: number;
}

export async function outboxBacklog(
  knex: Knex,
  { table = OUTBOX_TABLE }: OutboxTableOptions = {},
): Promise<OutboxBacklog> {
  const result = await knex.raw<{ rows: Array<{ count: number; age: number | null }> }>(
    `select count(*)::int as count, extract(epoch from now() - min(created_at))::float8 as age
       from ${checkName(table)} where published_at is null`,
  );
  const row = result.rows[0];
  return { count: row?.count ?? 0, oldestAgeSeconds: Math.max(0, row?.age ?? 0) };
}

export interface OutboxRelayOptions {
  knex: Knex;
  producer: Pick<EventProducer, 'publish'>;
  logger: Logger;
  table?: string;
  /** Pause between rounds that found less than a full batch. Default 100 ms. */
  pollIntervalMs?: number;
  batchSize?: number;
  /** Published rows older than this are deleted. Default one day. */
  retentionMs?: number;
  /** How often the retention delete runs. Default one minute. */
  cleanupIntervalMs?: number;
  /** Backoff after failed rounds (Kafka or PostgreSQL unavailable). */
  retry?: BackoffOptions;
  /**
   * Default true: only one relay per table publishes at a time (a transaction-level advisory lock),
   * so one aggregate's events reach Kafka in the order written even with several replicas. Rows are
   * locked with `skip locked` in any case, so no row is published twice by two healthy replicas.
   */
  exclusive?: boolean;
  metrics?: KafkaMetrics;
  /** Where failpoints are read from (`MPB_FAILPOINTS`, `NODE_ENV`); default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** Exit code of a process stopped by the `outbox.after-publish=exit` failpoint. */
export const FAILPOINT_EXIT_CODE = 86;

/**
 * Test-only crash point for the fault tests: with `MPB_FAILPOINTS=outbox.after-publish=exit` the
 * process exits right after a round's events reached Kafka and before they are marked published, so
 * their redelivery can be observed. Ignored when `NODE_ENV` is `production`.
 */
export function exitAfterPublishFailpoint(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NODE_ENV === 'production') return false;
  return (env.MPB_FAILPOINTS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .includes('outbox.after-publish=exit');
}

interface OutboxRow {
  id: string;
  topic: string;
  envelope: EventEnvelope;
}

/** Publishes committed outbox rows to Kafka, at least once, in the order they were written. */
export class OutboxRelay {
  private readonly knex: Knex;
  private readonly producer: Pick<EventProducer, 'publish'>;
  private readonly logger: Logger;
  private readonly table: string;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly retentionMs: number;
  private readonly cleanupIntervalMs: number;
  private readonly retry: BackoffOptions;
  private readonly exclusive: boolean;
  private readonly metrics?: KafkaMetrics;
  private readonly exitAfterPublish: boolean;
  private unwatch: (() => void) | undefined;
  private readonly sleeper = new Sleeper();
  private loop: Promise<void> | undefined;
  private stopping = false;
  private failures = 0;
  private lastCleanupAt = 0;

  constructor(options: OutboxRelayOptions) {
    this.knex = options.knex;
    this.producer = options.producer;
    this.logger = options.logger.child({ component: 'outbox-relay' });
    this.table = checkName(options.table ?? OUTBOX_TABLE);
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.batchSize = options.batchSize ?? 200;
    this.retentionMs = options.retentionMs ?? 24 * 3600 * 1000;
    this.cleanupIntervalMs = options.cleanupIntervalMs ?? 60 * 1000;
    this.retry = { initialMs: 200, maxMs: 5000, ...options.retry };
    this.exclusive = options.exclusive ?? true;
    this.metrics = options.metrics;
    this.exitAfterPublish = exitAfterPublishFailpoint(options.env);
    if (this.exitAfterPublish) this.logger.warn('failpoint outbox.after-publish=exit is set');
  }

  start(): void {
    if (this.loop) return;
    this.unwatch ??= this.metrics?.watchOutbox(this.table, () => this.backlog());
    this.stopping = false;
    this.lastCleanupAt = Date.now();
    this.loop = this.run();
  }

  /** Lets the current round finish (its rows are then published and marked), then returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper.wake();
    await this.loop;
    this.loop = undefined;
    this.unwatch?.();
    this.unwatch = undefined;
  }

  isRunning(): boolean {
    return this.loop !== undefined && !this.stopping;
  }

  /** True while rounds fail (Kafka or the database unavailable). */
  isFailing(): boolean {
    return this.failures > 0;
  }

  backlog(): Promise<OutboxBacklog> {
    return outboxBacklog(this.knex, { table: this.table });
  }

  /**
   * One round: locks the oldest unpublished rows, publishes them in one batch, marks them published,
   * all in one transaction. Returns how many rows it published.
   */
  async publishOnce(): Promise<number> {
    return this.knex.transaction(async (trx) => {
      if (this.exclusive) {
        const lock = await trx.raw<{ rows: Array<{ locked: boolean }> }>(
          'select pg_try_advisory_xact_lock(hashtext(?)) as locked',
          [`mpb-outbox-relay:${this.table}`],
        );
        if (!lock.rows[0]?.locked) return 0;
      }
      const rows: OutboxRow[] = await trx(this.table)
        .select('id', 'topic', 'envelope')
        .whereNull('published_at')
        .orderBy('seq')
        .limit(this.batchSize)
        .forUpdate()
        .skipLocked();
      if (rows.length === 0) return 0;
      const byTopic = new Map<string, EventEnvelope[]>();
      for (const row of rows) {
        const list = byTopic.get(row.topic);
        if (list) list.push(row.envelope);
        else byTopic.set(row.topic, [row.envelope]);
      }
      // Issued in the same tick, these calls share one producer batch.
      await Promise.all([...byTopic].map(([topic, envelopes]) => this.producer.publish(envelopes, topic)));
      if (this.exitAfterPublish) process.exit(FAILPOINT_EXIT_CODE);
      await trx(this.table)
        .whereIn(
          'id',
          rows.map((r) => r.id),
        )
        .update({ published_at: trx.fn.now() });
      return rows.length;
    });
  }

  /** Deletes published rows older than the retention; returns how many. */
  async deletePublished(): Promise<number> {
    const result = await this.knex.raw<{ rowCount: number }>(
      `delete from ${this.table} where id in (
         select id from ${this.table}
          where published_at is not null and published_at < now() - make_interval(secs => ?)
          limit 10000)`,
      [this.retentionMs / 1000],
    );
    return result.rowCount;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let published = 0;
      try {
        published = await this.publishOnce();
        this.metrics?.outboxPublished.inc(published);
        if (this.failures > 0) {
          this.logger.info({ failedRounds: this.failures }, 'outbox relay recovered');
          this.failures = 0;
        }
      } catch (err) {
        this.failures += 1;
        this.metrics?.outboxFailures.inc();
        const delay = backoffDelay(this.failures, this.retry);
        // Once per outage, not once per row or round.
        if (this.failures === 1) {
          this.logger.error(
            { err: (err as Error).message },
            'outbox relay cannot publish; rows are kept and retried',
          );
        } else {
          this.logger.debug(
            { err: (err as Error).message, failedRounds: this.failures, delay },
            'outbox relay retry failed',
          );
        }
        await this.sleeper.sleep(delay);
        continue;
      }
      await this.cleanupIfDue();
      if (published < this.batchSize && !this.stopping) await this.sleeper.sleep(this.pollIntervalMs);
    }
  }

  private async cleanupIfDue(): Promise<void> {
    if (Date.now() - this.lastCleanupAt < this.cleanupIntervalMs) return;
    this.lastCleanupAt = Date.now();
    try {
      const deleted = await this.deletePublished();
      if (deleted > 0) this.logger.debug({ deleted }, 'deleted published outbox rows');
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'outbox retention delete failed');
    }
  }
}
