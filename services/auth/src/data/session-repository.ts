import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { NewRefreshToken, RotationResult, SessionStore } from '../domain/ports';
import { decideRotation } from '../domain/refresh-rotation';
import { isUuid } from './pg-errors';

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

export class SessionRepository implements SessionStore {
  constructor(private readonly knex: Knex) {}

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

  private async revokeIn(trx: Knex.Transaction, sessionId: string, reason: string, now: Date): Promise<void> {
    await trx('sessions')
      .where({ id: sessionId })
      .whereNull('revoked_at')
      .update({ revoked_at: now, revoked_reason: reason });
    await trx('refresh_tokens')
      .where({ session_id: sessionId })
      .whereNull('revoked_at')
      .update({ revoked_at: now });
  }
}
