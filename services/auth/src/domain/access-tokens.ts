import jwt from 'jsonwebtoken';
import type { Keyring } from './ports';
import { SIGNING_ALGORITHM } from './signing-keys';
import { accessTokenClaims, type AccessTokenSettings, type AccessTokenSubject } from './tokens';

export class AccessTokenIssuer {
  constructor(
    private readonly keyring: Keyring,
    private readonly settings: AccessTokenSettings,
  ) {}

  get ttlSeconds(): number {
    return this.settings.ttlSeconds;
  }

  issue(subject: AccessTokenSubject, now: Date): string {
    const key = this.keyring.signingKey();
    return jwt.sign(accessTokenClaims(subject, this.settings, now), key.privateKey, {
      algorithm: SIGNING_ALGORITHM,
      keyid: key.kid,
    });
  }
}
