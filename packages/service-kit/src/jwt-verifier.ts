import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt, { type Algorithm, type JwtPayload } from 'jsonwebtoken';
import { isAppError, unauthenticated, unavailable } from '@mpb/errors';
import type { AuthenticatedUser } from './http/types';

export interface Jwk extends JsonWebKey {
  kid?: string;
  alg?: string;
  use?: string;
}

export interface TokenVerifierOptions {
  /** Loads the current public keys (auth's JWKS endpoint in production, a function in tests). */
  loadKeys: () => Promise<Jwk[]>;
  issuer: string;
  audience: string;
  algorithms?: Algorithm[];
  /** An unknown key id triggers a refetch, at most this often. */
  minRefetchIntervalMs?: number;
  /** Access tokens of a revoked session are refused even before they expire. */
  isSessionRevoked?: (sessionId: string) => Promise<boolean>;
}

export interface TokenVerifier {
  verify(token: string): Promise<AuthenticatedUser>;
}

const KID = /^[A-Za-z0-9_-]{1,64}$/;
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'];

export function jwksFromUrl(url: string, timeoutMs = 2000): () => Promise<Jwk[]> {
  return async () => {
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw unavailable('authentication keys unavailable', { cause: err });
    }
    if (!res.ok) throw unavailable('authentication keys unavailable');
    let body: { keys?: Jwk[] };
    try {
      body = (await res.json()) as { keys?: Jwk[] };
    } catch (err) {
      throw unavailable('authentication keys unavailable', { cause: err });
    }
    return Array.isArray(body?.keys) ? body.keys : [];
  };
}

/**
 * Verifies access tokens against the published keys, pinning algorithm, issuer and audience.
 * Keys are cached by id; an unknown id refetches (rate-limited), so key rotation needs no restart.
 */
export function createTokenVerifier(o: TokenVerifierOptions): TokenVerifier {
  const algorithms = o.algorithms ?? ['ES256'];
  const minInterval = o.minRefetchIntervalMs ?? 10_000;
  let keys = new Map<string, KeyObject>();
  let lastFetch = 0;
  let lastFailure = 0;
  let inflight: Promise<void> | undefined;

  const refresh = async () => {
    inflight ??= (async () => {
      try {
        const next = new Map<string, KeyObject>();
        for (const jwk of await o.loadKeys()) {
          if (!jwk.kid || (jwk.use && jwk.use !== 'sig')) continue;
          next.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
        }
        keys = next;
        lastFetch = Date.now();
      } catch (err) {
        lastFailure = Date.now();
        throw isAppError(err) ? err : unavailable('authentication keys unavailable', { cause: err });
      } finally {
        inflight = undefined;
      }
    })();
    await inflight;
  };

  const keyFor = async (kid: string): Promise<KeyObject | undefined> => {
    const known = keys.get(kid);
    if (known) return known;
    // During an auth outage, one fetch per interval: the others fail fast instead of piling up.
    if (lastFailure > lastFetch && Date.now() - lastFailure < Math.min(minInterval, 1000)) {
      throw unavailable('authentication keys unavailable');
    }
    if (lastFetch === 0 || Date.now() - lastFetch >= minInterval) await refresh();
    return keys.get(kid);
  };

  return {
    async verify(token) {
      const decoded = jwt.decode(token, { complete: true });
      if (!decoded || typeof decoded.payload === 'string') throw unauthenticated('invalid token');
      const header = decoded.header as unknown as Record<string, unknown>;
      if (typeof header.kid !== 'string' || !KID.test(header.kid)) throw unauthenticated('invalid token');
      if (!algorithms.includes(header.alg as Algorithm)) throw unauthenticated('invalid token');
      if (FORBIDDEN_HEADERS.some((h) => h in header)) throw unauthenticated('invalid token');
      const key = await keyFor(header.kid);
      if (!key) throw unauthenticated('invalid token');
      let payload: JwtPayload;
      try {
        payload = jwt.verify(token, key, {
          algorithms,
          issuer: o.issuer,
          audience: o.audience,
        }) as JwtPayload;
      } catch {
        throw unauthenticated('invalid token');
      }
      if (typeof payload.exp !== 'number' || payload.typ !== 'access') throw unauthenticated('invalid token');
      if (typeof payload.sub !== 'string' || !/^[1-9][0-9]{0,15}$/.test(payload.sub))
        throw unauthenticated('invalid token');
      const sessionId = typeof payload.sid === 'string' ? payload.sid : undefined;
      if (sessionId && o.isSessionRevoked) {
        let revoked: boolean;
        try {
          revoked = await o.isSessionRevoked(sessionId);
        } catch (err) {
          throw unavailable('session check unavailable', { cause: err });
        }
        if (revoked) throw unauthenticated('invalid token');
      }
      return { id: Number(payload.sub), sessionId };
    },
  };
}
