import type { Knex } from 'knex';
import { createOutboxTable, dropOutboxTable } from '@mpb/kafka';

/** Events written in the same transaction as the change; the relay publishes them to Kafka. */
export async function up(knex: Knex): Promise<void> {
  await createOutboxTable(knex);
}

export async function down(knex: Knex): Promise<void> {
  await dropOutboxTable(knex);
}
