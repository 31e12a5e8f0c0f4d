import type { Knex } from 'knex';

/** Posts whose deletion metrics has applied: late metric events for them are dropped, never re-counted. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table if not exists deleted_posts (
      post_id bigint primary key,
      deleted_at timestamptz not null default now()
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists deleted_posts');
}
