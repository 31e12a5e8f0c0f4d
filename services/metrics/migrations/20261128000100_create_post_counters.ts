import type { Knex } from 'knex';

/**
 * The folded totals of each post: what the consumer has applied from Kafka. `version` grows with
 * every change, so Redis keeps the newest snapshot whoever writes it (consumer or a refill).
 * `view_epoch`/`epoch_views` count the views folded from the current Redis epoch of the post, so
 * the API can tell which of its pending views are already in `views` (see the README).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table if not exists post_counters (
      post_id bigint primary key,
      views bigint not null default 0,
      likes bigint not null default 0,
      version bigint not null default 0,
      view_epoch bigint not null default 0,
      epoch_views bigint not null default 0,
      updated_at timestamptz not null default now()
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists post_counters');
}
