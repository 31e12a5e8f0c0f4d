import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Jwk } from '@mpb/service-kit';

export interface SignOptions {
  sessionId?: string;
  expiresInSeconds?: number;
  issuer?: string;
  audience?: string;
  typ?: string;
}

/**
 * Stands in for auth's key: an EC P-256 key made for the test run. The verifier under test reads its
 * public half through `loadKeys`, exactly as it would read auth's JWKS, so no auth has to run.
 */
export class TestKeys {
  readonly kid = `test-${randomUUID().slice(0, 8)}`;
  private readonly privateKey: KeyObject;
  readonly jwk: Jwk;

  constructor(
    readonly issuer: string,
    readonly audience: string,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.jwk = { ...(publicKey.export({ format: 'jwk' }) as Jwk), kid: this.kid, alg: 'ES256', use: 'sig' };
  }

  readonly loadKeys = async (): Promise<Jwk[]> => [this.jwk];

  /** An access token as auth issues it: `sub` the user id, `sid` the session (fresh unless given), `typ: access`. */
  sign(userId: number, o: SignOptions = {}): string {
    return jwt.sign(
      { sub: String(userId), sid: o.sessionId ?? randomUUID(), typ: o.typ ?? 'access' },
      this.privateKey,
      {
        algorithm: 'ES256',
        keyid: this.kid,
        issuer: o.issuer ?? this.issuer,
        audience: o.audience ?? this.audience,
        expiresIn: o.expiresInSeconds ?? 300,
      },
    );
  }
}
