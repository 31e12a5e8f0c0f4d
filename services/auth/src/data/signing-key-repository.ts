import type { Knex } from 'knex';
import { SIGNING_ALGORITHM, signingKeyFromPem, type PublicJwk } from '../domain/signing-keys';
import { AdvisoryLocks } from './pg-errors';

export class SigningKeyRepository {
  constructor(private readonly knex: Knex) {}

  /**
   * The newest active key's PEM, creating one when there is none. Replicas starting together take
   * an advisory lock first, so exactly one of them generates and the others read its key.
   */
  ensureActiveKey(generatePem: () => string): Promise<string> {
    return this.knex.transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(?)', [AdvisoryLocks.signingKey]);
      const existing = (await trx('signing_keys')
        .first('private_key_pem')
        .whereNull('retired_at')
        .orderBy('created_at', 'desc')) as { private_key_pem: string } | undefined;
      if (existing) return existing.private_key_pem;
      const pem = generatePem();
      const key = signingKeyFromPem(pem);
      await trx('signing_keys').insert({
        kid: key.kid,
        algorithm: SIGNING_ALGORITHM,
        private_key_pem: pem,
        public_jwk: JSON.stringify(key.publicJwk),
      });
      return pem;
    });
  }

  /** Public parts of every key not retired; tokens signed by any of them still verify. */
  async publicKeys(): Promise<PublicJwk[]> {
    const rows = (await this.knex('signing_keys')
      .select('public_jwk')
      .whereNull('retired_at')
      .orderBy('created_at', 'desc')) as Array<{
      public_jwk: PublicJwk;
    }>;
    return rows.map((r) => r.public_jwk);
  }
}
