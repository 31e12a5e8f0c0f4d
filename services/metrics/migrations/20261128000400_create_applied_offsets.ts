import type { Knex } from 'knex';

/**
 * The last Kafka offset folded into the counters, per topic and partition, written in the same
 * transaction as the counts. Keyed by topic-partition and not by consumer group, so a new group or a
 * reset to the earliest offset replays into "already applied" and changes nothing.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table if not exists applied_offsets (
      topic text not null,
      partition integer not null,
      applied_offset bigint not null,
      updated_at timestamptz not null default now(),
      primary key (topic, partition)
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists applied_offsets');
}
