import type { Knex } from 'knex';

/**
 * Who likes which post: the durable truth. One row per (post, user) under the primary key; `liked`
 * is its current state and `seq` the Redis sequence of the decision that set it, so a late or
 * reordered event never overwrites a newer decision (last writer by sequence wins). A post's likes
 * are its rows with `liked`; an unlike keeps the row with `liked = false` to remember its sequence.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table if not exists post_likes (
      post_id bigint not null,
      user_id bigint not null,
      liked boolean not null,
      seq bigint not null,
      updated_at timestamptz not null default now(),
      primary key (post_id, user_id)
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists post_likes');
}
