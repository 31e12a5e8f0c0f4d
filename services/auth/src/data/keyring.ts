import type { Logger } from '@mpb/logger';
import { errorFields } from '@mpb/logger';
import type { Keyring } from '../domain/ports';
import { generateSigningKeyPem, signingKeyFromPem, type PublicJwk } from '../domain/signing-keys';
import type { SigningKeyRepository } from './signing-key-repository';

export interface KeyringOptions {
  repository: SigningKeyRepository;
  /** A key given in the configuration signs instead of the stored one (and is never stored). */
  configuredPem?: string;
  logger: Logger;
  cacheMs?: number;
}

/** Loads the signing key once at start; the published key set is re-read at most every `cacheMs`. */
export async function loadKeyring(o: KeyringOptions): Promise<Keyring> {
  const active = signingKeyFromPem(
    o.configuredPem ?? (await o.repository.ensureActiveKey(generateSigningKeyPem)),
  );
  const cacheMs = o.cacheMs ?? 30_000;
  let cached: { keys: PublicJwk[]; at: number } | undefined;

  return {
    signingKey: () => active,
    async publicKeys() {
      if (cached && Date.now() - cached.at < cacheMs) return cached.keys;
      try {
        const byKid = new Map<string, PublicJwk>([[active.kid, active.publicJwk]]);
        for (const jwk of await o.repository.publicKeys()) if (!byKid.has(jwk.kid)) byKid.set(jwk.kid, jwk);
        cached = { keys: [...byKid.values()], at: Date.now() };
        return cached.keys;
      } catch (err) {
        // Verifiers must keep working through a database blip: serve what we last knew.
        o.logger.warn(errorFields(err), 'could not read signing keys, serving the cached set');
        return cached?.keys ?? [active.publicJwk];
      }
    },
  };
}
