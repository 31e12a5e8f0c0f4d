import type { Knex } from 'knex';

/**
 * The state of a like row before its last change, written by the same upsert that changes it, so the
 * consumer learns how each post's count moved from the upsert's own answer (no read beforehand).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table post_likes add column if not exists was_liked boolean not null default false');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table post_likes drop column if exists was_liked');
}
