import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table if not exists signing_keys (
      kid varchar(64) primary key,
      algorithm varchar(10) not null,
      private_key_pem text not null,
      public_jwk jsonb not null,
      created_at timestamptz not null default now(),
      retired_at timestamptz
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists signing_keys');
}
