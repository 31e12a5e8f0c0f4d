import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { NewRefreshToken, RevocationRecords, RotationResult, SessionStore } from '../domain/ports';
import { decideRotation } from '../domain/refresh-rotation';
import { AdvisoryLocks, isUuid } from './pg-errors';

interface LockedTokenRow {
  id: string | number;
  session_id: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  session_revoked_at: Date | null;
  user_id: string | number;
  user_active: boolean;
}

interface RevocationRow {
  latest_seq: string | number;
  seq: string | number | null;
  session_id: string | null;
  expires_at: Date | null;
}

export class SessionRepository implements SessionStore {
  /** `accessTokenTtlSeconds`: a revoked session's access tokens are all expired this long after it. */
  constructor(
    private readonly knex: Knex,
    private readonly o: { accessTokenTtlSeconds: number },
  ) {}

  async create(userId: number, first: NewRefreshToken): Promise<{ sessionId: string }> {
    const sessionId = randomUUID();
    await this.knex.transaction(async (trx) => {
      await trx('sessions').insert({ id: sessionId, user_id: userId });
      await trx('refresh_tokens').insert({
        session_id: sessionId,
        token_hash: first.hash,
        expires_at: first.expiresAt,
      });
    });
    return { sessionId };
  }

  rotate(presentedHash: string, next: NewRefreshToken, now: Date): Promise<RotationResult> {
    return this.knex.transaction(async (trx) => {
      // Locking the token and its session serialises concurrent exchanges of the same token:
      // the second one waits, then sees the token used and is treated as reuse.
      const row = (await trx('refresh_tokens as t')
        .join('sessions as s', 's.id', 't.session_id')
        .join('users as u', 'u.id', 's.user_id')
        .first(
          't.id',
          't.session_id',
          't.expires_at',
          't.used_at',
          't.revoked_at',
          's.revoked_at as session_revoked_at',
          's.user_id',
          trx.raw('(u.is_active and u.deleted_at is null) as user_active'),
        )
        .where('t.token_hash', presentedHash)
        .forUpdate('t', 's')) as LockedTokenRow | undefined;

      const decision = decideRotation(
        row && {
          expiresAt: row.expires_at,
          usedAt: row.used_at,
          revokedAt: row.revoked_at,
          sessionRevokedAt: row.session_revoked_at,
          userActive: row.user_active,
        },
        now,
      );
      if (!row) return { decision: 'not_found' };
      switch (decision) {
        case 'rotate':
          await trx('refresh_tokens').where({ id: row.id }).update({ used_at: now });
          await trx('refresh_tokens').insert({
            session_id: row.session_id,
            token_hash: next.hash,
            expires_at: next.expiresAt,
          });
          return { decision, sessionId: row.session_id, userId: Number(row.user_id) };
        case 'reuse':
          await this.revokeIn(trx, row.session_id, 'refresh_token_reuse', now);
          return { decision, sessionId: row.session_id };
        default:
          return { decision };
      }
    });
  }

  async revoke(sessionId: string, userId: number, reason: string): Promise<void> {
    if (!isUuid(sessionId)) return;
    await this.knex.transaction(async (trx) => {
      const owned = await trx('sessions').first('id').where({ id: sessionId, user_id: userId }).forUpdate();
      if (owned) await this.revokeIn(trx, sessionId, reason, new Date());
    });
  }

  /** A session the database does not know is treated as revoked. */
  async isRevoked(sessionId: string): Promise<boolean> {
    if (!isUuid(sessionId)) return true;
    const row = (await this.knex('sessions').first('revoked_at').where({ id: sessionId })) as
      { revoked_at: Date | null } | undefined;
    return !row || row.revoked_at !== null;
  }

  async revokedAfter(afterSeq: number, limit: number): Promise<RevocationRecords> {
    // One statement, one snapshot: the page and the latest number agree. Revocations commit in
    // number order (revokeIn), so what this snapshot sees is every revocation up to latest_seq.
    const { rows } = (await this.knex.raw(
      `select top.latest_seq, r.seq, r.session_id, r.expires_at
         from (select coalesce(max(seq), 0) as latest_seq from session_revocations) top
         left join lateral (
           select seq, session_id, expires_at
             from session_revocations
            where seq > ? and expires_at > now()
            order by seq
            limit ?
         ) r on true
        order by r.seq`,
      [afterSeq, limit],
    )) as { rows: RevocationRow[] };
    return {
      latestSeq: Number(rows[0]?.latest_seq ?? 0),
      entries: rows.flatMap((r) =>
        r.seq === null || r.session_id === null || r.expires_at === null
          ? []
          : [{ seq: Number(r.seq), sessionId: r.session_id, expiresAt: r.expires_at }],
      ),
    };
  }

  private async revokeIn(trx: Knex.Transaction, sessionId: string, reason: string, now: Date): Promise<void> {
    const revoked = await trx('sessions')
      .where({ id: sessionId })
      .whereNull('revoked_at')
      .update({ revoked_at: now, revoked_reason: reason }, ['id']);
    await trx('refresh_tokens')
      .where({ session_id: sessionId })
      .whereNull('revoked_at')
      .update({ revoked_at: now });
    if (revoked.length === 0) return;
    // Numbers are taken one transaction at a time, so they commit in order: a verifier that has
    // seen number n has seen every revocation before it, and its cursor never skips one.
    await trx.raw('select pg_advisory_xact_lock(?)', [AdvisoryLocks.revocationFeed]);
    await trx('session_revocations').where('expires_at', '<', now).delete();
    await trx('session_revocations').insert({
      session_id: sessionId,
      revoked_at: now,
      expires_at: new Date(now.getTime() + this.o.accessTokenTtlSeconds * 1000),
    });
  }
}
