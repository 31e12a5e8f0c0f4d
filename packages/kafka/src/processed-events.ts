import type { Knex } from 'knex';

export const PROCESSED_EVENTS_TABLE = 'processed_events';

/** For a service's migration; safe to run twice. */
export async function createProcessedEventsTable(knex: Knex): Promise<void> {
  await knex.raw(`
    create table if not exists ${PROCESSED_EVENTS_TABLE} (
      consumer text not null,
      event_id uuid not null,
      processed_at timestamptz not null default now(),
      primary key (consumer, event_id)
    )`);
  await knex.raw(
    `create index if not exists ${PROCESSED_EVENTS_TABLE}_processed_at_idx on ${PROCESSED_EVENTS_TABLE} (processed_at)`,
  );
}

export async function dropProcessedEventsTable(knex: Knex): Promise<void> {
  await knex.raw(`drop table if exists ${PROCESSED_EVENTS_TABLE}`);
}

/**
 * Records that `consumer` handled `eventId`, in the transaction of the handler's effect. Returns
 * false when it was already recorded: a redelivery, whose effect the caller must then skip.
 */
export async function markProcessed(
  trx: Knex.Transaction,
  consumer: string,
  eventId: string,
): Promise<boolean> {
  const inserted: unknown[] = await trx(PROCESSED_EVENTS_TABLE)
    .insert({ consumer, event_id: eventId })
    .onConflict(['consumer', 'event_id'])
    .ignore()
    .returning('event_id');
  return inserted.length > 0;
}

export interface PruneOptions {
  /** Rows deleted per statement, so each statement and its locks stay short. Default 5000. */
  batch?: number;
  /** Statements per call; what is left goes at the next call. Default 20. */
  maxBatches?: number;
}

/**
 * Forgets records older than `olderThanMs`, in bounded statements; returns how many. Keep
 * `olderThanMs` beyond any redelivery window: at least the retention of the topics consumed (a
 * group whose offsets are reset or expired reads again everything the topic still holds).
 */
export async function pruneProcessedEvents(
  knex: Knex,
  olderThanMs: number,
  { batch = 5000, maxBatches = 20 }: PruneOptions = {},
): Promise<number> {
  let total = 0;
  for (let i = 0; i < maxBatches; i += 1) {
    const result = await knex.raw<{ rowCount: number }>(
      `delete from ${PROCESSED_EVENTS_TABLE} where ctid in (
         select ctid from ${PROCESSED_EVENTS_TABLE}
          where processed_at < now() - make_interval(secs => ?)
          limit ?)`,
      [olderThanMs / 1000, batch],
    );
    total += result.rowCount;
    if (result.rowCount < batch) break;
  }
  return total;
}
