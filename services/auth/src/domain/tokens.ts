import { createHash, randomBytes } from 'node:crypto';
import { ACCESS_TOKEN_TYPE } from '@mpb/contracts';

export interface AccessTokenClaims {
  sub: string;
  sid: string;
  typ: typeof ACCESS_TOKEN_TYPE;
  iss: string;
  aud: string;
  iat: number;
  exp: number;
}

export interface AccessTokenSubject {
  userId: number;
  sessionId: string;
}

export interface AccessTokenSettings {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

export function accessTokenClaims(
  subject: AccessTokenSubject,
  s: AccessTokenSettings,
  now: Date,
): AccessTokenClaims {
  const iat = Math.floor(now.getTime() / 1000);
  return {
    sub: String(subject.userId),
    sid: subject.sessionId,
    typ: ACCESS_TOKEN_TYPE,
    iss: s.issuer,
    aud: s.audience,
    iat,
    exp: iat + s.ttlSeconds,
  };
}

export const REFRESH_TOKEN_BYTES = 32;

/** Opaque and random; only its hash is stored, so a database leak yields no usable token. */
export const newRefreshToken = (): string => randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');

export const hashRefreshToken = (token: string): string =>
  createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * Whether a string could be a token at all. Anything token-shaped (including a JWT) is merely
 * looked up and found unknown; whitespace, control characters or absurd lengths are malformed.
 */
export const isPlausibleRefreshToken = (value: string): boolean =>
  /^[A-Za-z0-9._~+/=-]{16,2048}$/.test(value);
