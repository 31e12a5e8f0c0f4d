import type { Knex } from 'knex';
import { addOutboxParking, dropOutboxParking } from '@mpb/kafka';

/** The parked state of outbox rows Kafka can never accept (`parked_at`, `parked_reason`). */
export async function up(knex: Knex): Promise<void> {
  await addOutboxParking(knex);
}

export async function down(knex: Knex): Promise<void> {
  await dropOutboxParking(knex);
}
