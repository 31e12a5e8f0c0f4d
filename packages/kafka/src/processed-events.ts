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

/** Forgets records older than `olderThanMs`; keep it well beyond any redelivery window. */
export async function pruneProcessedEvents(knex: Knex, olderThanMs: number): Promise<number> {
  const deleted = await knex(PROCESSED_EVENTS_TABLE)
    .where('processed_at', '<', knex.raw('now() - make_interval(secs => ?)', [olderThanMs / 1000]))
    .delete();
  return deleted;
}
