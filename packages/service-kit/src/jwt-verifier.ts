import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt, { type Algorithm, type JwtPayload } from 'jsonwebtoken';
import { JWKS_PATH, parseId } from '@mpb/contracts';
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
  /**
   * Access tokens of a revoked session are refused even before they expire: `SessionRevocations`
   * answers from memory (synchronously), auth asks its own database. A thrown error is a 503.
   */
  isSessionRevoked?: (sessionId: string) => boolean | Promise<boolean>;
  /**
   * Tokens whose signature and claims checked out are remembered this long (never past their
   * `exp`), so a client's next requests skip the signature check; the revoked-session check still
   * runs on every request. 0 turns it off. Default 30 s.
   */
  verifiedCacheTtlMs?: number;
  /** Most tokens remembered (least recently verified go first). Default 10,000. */
  verifiedCacheSize?: number;
  clock?: () => number;
}

export interface TokenVerifier {
  verify(token: string): Promise<AuthenticatedUser>;
}

const KID = /^[A-Za-z0-9_-]{1,64}$/;
/** Longer tokens are never remembered: ours are a few hundred bytes. */
const MAX_CACHED_TOKEN_LENGTH = 2048;

interface Verified {
  id: number;
  sessionId?: string;
  /** When to check the signature again: the token's expiry or the cache's TTL, the earlier. */
  until: number;
}
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'];

/**
 * Where auth publishes its public keys, the one rule every verifier follows: auth's base URL (it may
 * carry a path prefix; trailing slashes are dropped) followed by JWKS_PATH.
 */
export const jwksUrlOf = (authUrl: string): string => `${authUrl.replace(/\/+$/, '')}${JWKS_PATH}`;

/** auth's public keys for createTokenVerifier's `loadKeys`, fetched from jwksUrlOf(authUrl). */
export const jwksFromAuth = (authUrl: string, timeoutMs?: number): (() => Promise<Jwk[]>) =>
  jwksFromUrl(jwksUrlOf(authUrl), timeoutMs);

/** Fetches a JWKS document; any failure is a 503 `authentication keys unavailable`. */
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

  const cacheTtl = o.verifiedCacheTtlMs ?? 30_000;
  const cacheSize = o.verifiedCacheSize ?? 10_000;
  const now = o.clock ?? Date.now;
  /** Insertion order is verification order, so the first key is the oldest. */
  const verified = new Map<string, Verified>();

  /** The signature, algorithm, issuer, audience, expiry and claims; throws `invalid token`. */
  const check = async (token: string): Promise<Verified> => {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') throw unauthenticated('invalid token');
    const header: Record<string, unknown> = { ...decoded.header };
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
        ...(o.clock ? { clockTimestamp: Math.floor(now() / 1000) } : {}),
      }) as JwtPayload;
    } catch {
      throw unauthenticated('invalid token');
    }
    if (typeof payload.exp !== 'number' || payload.typ !== 'access') throw unauthenticated('invalid token');
    // The subject is the user's id, read by the platform's one id rule; JWT subjects are strings.
    const id = typeof payload.sub === 'string' ? parseId(payload.sub) : undefined;
    if (id === undefined) throw unauthenticated('invalid token');
    return {
      id,
      sessionId: typeof payload.sid === 'string' ? payload.sid : undefined,
      until: Math.min(payload.exp * 1000, now() + cacheTtl),
    };
  };

  const remembered = (token: string): Verified | undefined => {
    const hit = verified.get(token);
    if (hit === undefined) return undefined;
    if (hit.until > now()) return hit;
    verified.delete(token);
    return undefined;
  };

  const remember = (token: string, v: Verified): void => {
    if (cacheTtl <= 0 || token.length > MAX_CACHED_TOKEN_LENGTH || v.until <= now()) return;
    verified.delete(token);
    verified.set(token, v);
    if (verified.size > cacheSize) verified.delete(verified.keys().next().value!);
  };

  return {
    async verify(token) {
      let v = remembered(token);
      if (!v) {
        v = await check(token);
        remember(token, v);
      }
      const { sessionId } = v;
      if (sessionId && o.isSessionRevoked) {
        let revoked: boolean;
        try {
          const answer = o.isSessionRevoked(sessionId);
          revoked = typeof answer === 'boolean' ? answer : await answer;
        } catch (err) {
          throw isAppError(err) ? err : unavailable('session check unavailable', { cause: err });
        }
        if (revoked) throw unauthenticated('invalid token');
      }
      return { id: v.id, sessionId };
    },
  };
}
