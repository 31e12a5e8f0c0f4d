import type { Knex } from 'knex';
import type { EventEnvelope } from '@mpb/contracts';
import type { Logger } from '@mpb/logger';
import { backoffDelay, Sleeper, type BackoffOptions } from './backoff';
import type { KafkaMetrics } from './metrics';
import {
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  envelopeMessage,
  isUnsendableError,
  messageBytes,
  ProducerClosedError,
  topicOfEnvelope,
  type EventProducer,
} from './producer';

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

/**
 * Adds the parked state to an outbox made by `createOutboxTable`, for a service's migration; safe to
 * run twice. A parked row can never be sent (too large for Kafka): the relay sets `parked_at` and
 * `parked_reason` instead of retrying it, and the rows after it go out.
 */
export async function addOutboxParking(
  knex: Knex,
  { table = OUTBOX_TABLE }: OutboxTableOptions = {},
): Promise<void> {
  const t = checkName(table);
  await knex.raw(`alter table ${t} add column if not exists parked_at timestamptz null`);
  await knex.raw(`alter table ${t} add column if not exists parked_reason text null`);
  await knex.raw(
    `create index if not exists ${t}_pending_idx on ${t} (seq) where published_at is null and parked_at is null`,
  );
  await knex.raw(`drop index if exists ${t}_unpublished_idx`);
  await knex.raw(
    `create index if not exists ${t}_parked_idx on ${t} (parked_at) where parked_at is not null`,
  );
}

/** Undoes `addOutboxParking` (a migration's `down`). */
export async function dropOutboxParking(
  knex: Knex,
  { table = OUTBOX_TABLE }: OutboxTableOptions = {},
): Promise<void> {
  const t = checkName(table);
  await knex.raw(`create index if not exists ${t}_unpublished_idx on ${t} (seq) where published_at is null`);
  await knex.raw(`drop index if exists ${t}_pending_idx`);
  await knex.raw(`drop index if exists ${t}_parked_idx`);
  await knex.raw(`alter table ${t} drop column if exists parked_reason`);
  await knex.raw(`alter table ${t} drop column if exists parked_at`);
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
  /** Rows waiting to be published (parked rows not counted). */
  count: number;
  /** Age of the oldest waiting row; 0 when there is none. */
  oldestAgeSeconds: number;
  /** Rows parked because they can never be sent. */
  parked: number;
}

export async function outboxBacklog(
  knex: Knex,
  { table = OUTBOX_TABLE }: OutboxTableOptions = {},
): Promise<OutboxBacklog> {
  const t = checkName(table);
  const result = await knex.raw<{ rows: Array<{ count: number; age: number | null; parked: number }> }>(
    `select count(*)::int as count, extract(epoch from now() - min(created_at))::float8 as age,
            (select count(*)::int from ${t} where parked_at is not null) as parked
       from ${t} where published_at is null and parked_at is null`,
  );
  const row = result.rows[0];
  return {
    count: row?.count ?? 0,
    oldestAgeSeconds: Math.max(0, row?.age ?? 0),
    parked: row?.parked ?? 0,
  };
}

export interface OutboxRelayOptions {
  knex: Knex;
  producer: Pick<EventProducer, 'publish'> & Partial<Pick<EventProducer, 'isConnecting'>>;
  logger: Logger;
  table?: string;
  /** Pause between rounds that found less than a full batch. Default 100 ms. */
  pollIntervalMs?: number;
  /** Most rows one round reads. Default 200. */
  batchSize?: number;
  /**
   * Most bytes one round publishes (estimated as `messageBytes` does; at least one row per round).
   * Default 900 KiB, under the 1 MiB a broker accepts in one request by default. Keep it at or
   * under the producer's `maxBatchBytes`.
   */
  maxBatchBytes?: number;
  /** A row whose message is larger is parked, never sent. Default 256 KiB (the producer's default limit). */
  maxEventBytes?: number;
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
}

/**
 * A test-only seam that no production code sets, and that nothing reads from the environment:
 * `afterPublish` runs inside a round, after its events reached Kafka and before they are marked
 * published. The fault suite sets it from a module it preloads into the service's process
 * (`faults/test/harness/outbox-failpoint.mjs`, which ends the process there) to watch the redelivery;
 * this package's tests set it directly.
 */
export const outboxTestHooks: { afterPublish?: (eventIds: string[]) => void } = {};

interface OutboxRow {
  id: string;
  topic: string;
  envelope: EventEnvelope;
}

interface ParkedRow {
  row: OutboxRow;
  reason: string;
}

/** Rows deleted per statement by the retention delete; each statement stays short. */
const DELETE_BATCH = 5000;
/** Statements per retention run: a run ends within bounded time, the next one continues. */
const DELETE_BATCHES_PER_RUN = 20;

/** Publishes committed outbox rows to Kafka, at least once, in the order they were written. */
export class OutboxRelay {
  private readonly knex: Knex;
  private readonly producer: Pick<EventProducer, 'publish'> & Partial<Pick<EventProducer, 'isConnecting'>>;
  private readonly logger: Logger;
  private readonly table: string;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly maxBatchBytes: number;
  private readonly maxEventBytes: number;
  private readonly retentionMs: number;
  private readonly cleanupIntervalMs: number;
  private readonly retry: BackoffOptions;
  private readonly exclusive: boolean;
  private readonly metrics?: KafkaMetrics;
  private unwatch: (() => void) | undefined;
  private readonly sleeper = new Sleeper();
  private loop: Promise<void> | undefined;
  private stopping = false;
  private failures = 0;
  private lastCleanupAt = 0;
  /** The last round left rows behind (it hit the row or byte limit): the next starts at once. */
  private moreWaiting = false;

  constructor(options: OutboxRelayOptions) {
    this.knex = options.knex;
    this.producer = options.producer;
    this.logger = options.logger.child({ component: 'outbox-relay' });
    this.table = checkName(options.table ?? OUTBOX_TABLE);
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.batchSize = options.batchSize ?? 200;
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.maxEventBytes = Math.min(options.maxEventBytes ?? DEFAULT_MAX_MESSAGE_BYTES, this.maxBatchBytes);
    this.retentionMs = options.retentionMs ?? 24 * 3600 * 1000;
    this.cleanupIntervalMs = options.cleanupIntervalMs ?? 60 * 1000;
    this.retry = { initialMs: 200, maxMs: 5000, ...options.retry };
    this.exclusive = options.exclusive ?? true;
    this.metrics = options.metrics;
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
   * One round, in one transaction: locks the oldest waiting rows, publishes as many of them, in
   * order, as fit in `maxBatchBytes`, and marks them published. A row that can never be sent (over
   * `maxEventBytes`, or refused by the broker as too large) is parked with the reason and the rows
   * after it go on: nothing one row holds can stop the relay. Returns how many rows it settled.
   */
  async publishOnce(): Promise<number> {
    return this.knex.transaction(async (trx) => {
      this.moreWaiting = false;
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
        .whereNull('parked_at')
        .orderBy('seq')
        .limit(this.batchSize)
        .forUpdate()
        .skipLocked();
      if (rows.length === 0) return 0;
      const parked: ParkedRow[] = [];
      const batch: OutboxRow[] = [];
      let bytes = 0;
      for (const row of rows) {
        const size = messageBytes(envelopeMessage(row.envelope));
        if (size > this.maxEventBytes) {
          parked.push({ row, reason: `event is ${size} bytes, over the limit of ${this.maxEventBytes}` });
          continue;
        }
        if (batch.length > 0 && bytes + size > this.maxBatchBytes) break;
        bytes += size;
        batch.push(row);
      }
      this.moreWaiting = rows.length === this.batchSize || batch.length + parked.length < rows.length;

      const sent: OutboxRow[] = [];
      try {
        await this.publishRows(batch);
        sent.push(...batch);
      } catch (err) {
        if (!isUnsendableError(err)) throw err;
        // The broker refused something of the batch for good: find what, row by row, in order.
        for (const row of batch) {
          try {
            await this.publishRows([row]);
            sent.push(row);
          } catch (rowErr) {
            if (!isUnsendableError(rowErr)) throw rowErr;
            parked.push({ row, reason: (rowErr as Error).message });
          }
        }
      }
      if (sent.length > 0) outboxTestHooks.afterPublish?.(sent.map((r) => r.id));
      if (sent.length > 0) {
        await trx(this.table)
          .whereIn(
            'id',
            sent.map((r) => r.id),
          )
          .update({ published_at: trx.fn.now() });
      }
      for (const { row, reason } of parked) {
        await trx(this.table)
          .where({ id: row.id })
          .update({ parked_at: trx.fn.now(), parked_reason: reason.slice(0, 1000) });
        this.logger.error(
          { event_id: row.id, type: row.envelope.type, topic: row.topic, reason },
          'outbox event parked: it can never be sent to Kafka',
        );
      }
      this.metrics?.outboxPublished.inc(sent.length);
      return sent.length + parked.length;
    });
  }

  /** Publishes rows in one producer batch (the producer's calls of one tick share a request). */
  private async publishRows(rows: OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    const byTopic = new Map<string, EventEnvelope[]>();
    for (const row of rows) {
      const list = byTopic.get(row.topic);
      if (list) list.push(row.envelope);
      else byTopic.set(row.topic, [row.envelope]);
    }
    const results = await Promise.allSettled(
      [...byTopic].map(([topic, envelopes]) => this.producer.publish(envelopes, topic)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Deletes published rows older than the retention, in statements of at most 5000 rows and at
   * most 20 statements a run (the next run continues); returns how many.
   */
  async deletePublished(): Promise<number> {
    let total = 0;
    for (let i = 0; i < DELETE_BATCHES_PER_RUN && !this.stopping; i += 1) {
      const result = await this.knex.raw<{ rowCount: number }>(
        `delete from ${this.table} where id in (
           select id from ${this.table}
            where published_at is not null and published_at < now() - make_interval(secs => ?)
            limit ${DELETE_BATCH})`,
        [this.retentionMs / 1000],
      );
      total += result.rowCount;
      if (result.rowCount < DELETE_BATCH) break;
    }
    return total;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.publishOnce();
        if (this.failures > 0) {
          this.logger.info({ failedRounds: this.failures }, 'outbox relay recovered');
          this.failures = 0;
        }
      } catch (err) {
        this.failures += 1;
        this.metrics?.outboxFailures.inc();
        const delay = backoffDelay(this.failures, this.retry);
        // Once per outage, not once per row or round. A producer still making its first connection
        // (the service started before Kafka answered) has already warned that it keeps trying: the
        // rows wait for it, which is a warning, not an error.
        if (this.failures === 1 && err instanceof ProducerClosedError && this.producer.isConnecting?.()) {
          this.logger.warn(
            { err: (err as Error).message },
            'outbox relay waits for the producer to connect; rows are kept and published then',
          );
        } else if (this.failures === 1) {
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
      if (!this.moreWaiting && !this.stopping) await this.sleeper.sleep(this.pollIntervalMs);
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
