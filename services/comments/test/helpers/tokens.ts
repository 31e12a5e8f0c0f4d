import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Jwk } from '@mpb/service-kit';

/**
 * Stands in for auth's token minting: an EC P-256 key made for the test run, its public half served
 * to the verifier through `loadKeys`, and access tokens shaped like auth's (ES256, kid, typ, sid).
 */
export class TestTokenIssuer {
  readonly kid = `test-${randomUUID().slice(0, 8)}`;
  private readonly privateKey: KeyObject;
  private readonly jwk: Jwk;

  constructor(
    private readonly issuer: string,
    private readonly audience: string,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.jwk = { ...publicKey.export({ format: 'jwk' }), kid: this.kid, alg: 'ES256', use: 'sig' };
  }

  readonly loadKeys = async (): Promise<Jwk[]> => [this.jwk];

  /** An access token for the user, in a fresh session unless one is given. */
  token(userId: number, o: { sessionId?: string; expiresInSeconds?: number } = {}): string {
    return jwt.sign({ typ: 'access', sid: o.sessionId ?? randomUUID() }, this.privateKey, {
      algorithm: 'ES256',
      keyid: this.kid,
      subject: String(userId),
      issuer: this.issuer,
      audience: this.audience,
      expiresIn: o.expiresInSeconds ?? 300,
    });
  }
}

export const bearer = (token: string): string => `Bearer ${token}`;
