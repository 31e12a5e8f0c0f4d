import type { Knex } from 'knex';

/**
 * Posts and comments known to be deleted (from their `*.deleted` events). An upload whose ownership
 * check raced with the deletion is refused here instead of leaving files behind the cascade.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table if not exists deleted_parents (
      parent_type text not null check (parent_type in ('post', 'comment')),
      parent_id bigint not null,
      deleted_at timestamptz not null default now(),
      primary key (parent_type, parent_id)
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists deleted_parents');
}
