import type { Knex } from 'knex';
import { createProcessedEventsTable, dropProcessedEventsTable } from '@mpb/kafka';

/** Ids of the post and comment events already applied, per consumer group. */
export async function up(knex: Knex): Promise<void> {
  await createProcessedEventsTable(knex);
}

export async function down(knex: Knex): Promise<void> {
  await dropProcessedEventsTable(knex);
}
