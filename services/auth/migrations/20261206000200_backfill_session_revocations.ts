import type { Knex } from 'knex';

/**
 * Sessions revoked before the feed existed were announced in Redis only. Their access tokens may
 * still be valid: list the ones revoked within the longest access-token lifetime auth allows (24 h),
 * as expiring 24 h after their revocation. Safe to run twice (a session is listed once).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    insert into session_revocations (session_id, revoked_at, expires_at)
    select s.id, s.revoked_at, s.revoked_at + interval '24 hours'
      from sessions s
     where s.revoked_at > now() - interval '24 hours'
       and not exists (select 1 from session_revocations r where r.session_id = s.id)
     order by s.revoked_at`);
}

export async function down(): Promise<void> {
  // The rows belong to the table the previous migration drops.
}
