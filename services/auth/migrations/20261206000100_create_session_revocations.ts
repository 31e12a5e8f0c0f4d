import type { Knex } from 'knex';

/**
 * The revocations every verifier learns through `SessionRevocationService`: one row per revoked
 * session, numbered in commit order (`seq`, the feed's cursor), kept until the session's last access
 * token expires.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table if not exists session_revocations (
      seq bigint generated always as identity primary key,
      session_id uuid not null references sessions (id) on delete cascade,
      revoked_at timestamptz not null,
      expires_at timestamptz not null
    )`);
  await knex.raw(
    'create unique index if not exists session_revocations_session_id_key on session_revocations (session_id)',
  );
  await knex.raw(
    'create index if not exists session_revocations_expires_at_idx on session_revocations (expires_at)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists session_revocations');
}
