import type { Knex } from 'knex';

/**
 * Posts known to be deleted (from `post.deleted`). A comment whose post check raced with the post's
 * deletion is refused here instead of being stored after the cascade ran and left orphaned.
 */
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
