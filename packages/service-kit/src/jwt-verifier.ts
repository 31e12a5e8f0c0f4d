import type { JsonWebKey } from 'node:crypto';
import jwt, { type Algorithm, type JwtPayload } from 'jsonwebtoken';
import { JwksClient, JwksError, JwksRateLimitError, SigningKeyNotFoundError } from 'jwks-rsa';
import { LRUCache } from 'lru-cache';
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
  /**
   * An unknown key id triggers a refetch, on average at most this often: jwks-rsa's limiter allows
   * 60,000 / this many fetches a minute. 0 turns the limit off. Default 10 s.
   */
  minRefetchIntervalMs?: number;
  /**
   * How long a key is used without asking for the keys again: a key auth stops publishing is
   * refused after this, and an auth outage longer than this makes verification a 503. Default 1 h.
   */
  keyCacheMaxAgeMs?: number;
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
  /** Most tokens remembered (least recently used go first). Default 10,000. */
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
 * Keys come from `jwks-rsa`: fetched through `loadKeys`, imported from their JWK, remembered by key
 * id for `keyCacheMaxAgeMs`, one fetch shared by the requests waiting for the same id; an unknown id
 * refetches (at most 60,000 / `minRefetchIntervalMs` times a minute), so key rotation needs no
 * restart. Tokens that checked out are remembered in an `lru-cache`.
 */
export function createTokenVerifier(o: TokenVerifierOptions): TokenVerifier {
  const algorithms = o.algorithms ?? ['ES256'];
  const minInterval = o.minRefetchIntervalMs ?? 10_000;
  /** Whether the last fetch of the keys failed: a refused refetch is then a 503, not a 401. */
  let lastFetchFailed = false;
  const keys = new JwksClient({
    fetcher: async () => {
      try {
        const fetched = { keys: await o.loadKeys() };
        lastFetchFailed = false;
        return fetched;
      } catch (err) {
        lastFetchFailed = true;
        throw isAppError(err) ? err : unavailable('authentication keys unavailable', { cause: err });
      }
    },
    cache: true,
    cacheMaxEntries: 16,
    cacheMaxAge: o.keyCacheMaxAgeMs ?? 60 * 60_000,
    rateLimit: minInterval > 0,
    jwksRequestsPerMinute: Math.max(1, Math.floor(60_000 / Math.max(minInterval, 1))),
  });

  /** The public key (PEM) published under `kid`; undefined when auth publishes none by that id. */
  const keyFor = async (kid: string): Promise<string | undefined> => {
    try {
      return (await keys.getSigningKey(kid)).getPublicKey();
    } catch (err) {
      if (isAppError(err)) throw err;
      // Refused by the limiter: an unknown id while auth answers, a 503 while it does not.
      if (err instanceof JwksRateLimitError) {
        if (lastFetchFailed) throw unavailable('authentication keys unavailable', { cause: err });
        return undefined;
      }
      // No key by that id, or no signing key at all, in what auth publishes.
      if (err instanceof SigningKeyNotFoundError || err instanceof JwksError) return undefined;
      throw unavailable('authentication keys unavailable', { cause: err });
    }
  };

  const cacheTtl = o.verifiedCacheTtlMs ?? 30_000;
  const now = o.clock ?? Date.now;
  const verified =
    cacheTtl > 0
      ? new LRUCache<string, Verified>({
          max: o.verifiedCacheSize ?? 10_000,
          // Each entry's TTL is set when stored: the cache's TTL or the token's expiry, the earlier.
          ttl: cacheTtl,
          ttlResolution: 0,
          perf: { now },
        })
      : undefined;

  /** The signature, algorithm, issuer, audience, expiry and claims; throws `invalid token`. */
  const check = async (token: string): Promise<{ v: Verified; exp: number }> => {
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
      v: { id, sessionId: typeof payload.sid === 'string' ? payload.sid : undefined },
      exp: payload.exp * 1000,
    };
  };

  const remember = (token: string, v: Verified, exp: number): void => {
    const ttl = Math.min(exp - now(), cacheTtl);
    if (!verified || token.length > MAX_CACHED_TOKEN_LENGTH || ttl <= 0) return;
    verified.set(token, v, { ttl });
  };

  return {
    async verify(token) {
      let v = verified?.get(token);
      if (!v) {
        const checked = await check(token);
        v = checked.v;
        remember(token, v, checked.exp);
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

/**
 * The verifier of a service that takes auth's access tokens: auth's keys, the issuer and audience from
 * the service's config (`authClientKeys`), a session auth revoked refused (`kit.revocations()`), and
 * the kit's refetch rule. One construction for every service, so none of them drifts.
 */
export function sessionTokenVerifier(o: {
  settings: { JWT_ISSUER: string; JWT_AUDIENCE: string };
  loadKeys: () => Promise<Jwk[]>;
  revocations: { isRevoked(sessionId: string): boolean };
}): TokenVerifier {
  return createTokenVerifier({
    loadKeys: o.loadKeys,
    issuer: o.settings.JWT_ISSUER,
    audience: o.settings.JWT_AUDIENCE,
    isSessionRevoked: (sessionId) => o.revocations.isRevoked(sessionId),
  });
}
