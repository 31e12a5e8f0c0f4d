import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Jwk } from '@mpb/service-kit';

/**
 * Auth's signing key for a test run: an EC P-256 key made here. The verifier under test loads its
 * public half through `loadKeys`, as it would read auth's JWKS, so auth need not run.
 */
export class TestKeys {
  readonly kid = `metrics-test-${randomUUID().slice(0, 8)}`;
  readonly jwk: Jwk;
  private readonly privateKey: KeyObject;

  constructor(
    readonly issuer: string,
    readonly audience: string,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.jwk = { ...(publicKey.export({ format: 'jwk' }) as Jwk), kid: this.kid, alg: 'ES256', use: 'sig' };
  }

  loadKeys = async (): Promise<Jwk[]> => [this.jwk];

  /** An access token as auth issues it. */
  sign(userId: number, o: { sessionId?: string; typ?: string; expiresInSeconds?: number } = {}): string {
    return jwt.sign(
      { sub: String(userId), sid: o.sessionId ?? randomUUID(), typ: o.typ ?? 'access' },
      this.privateKey,
      {
        algorithm: 'ES256',
        keyid: this.kid,
        issuer: this.issuer,
        audience: this.audience,
        expiresIn: o.expiresInSeconds ?? 600,
      },
    );
  }
}
