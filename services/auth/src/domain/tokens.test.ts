import { createTokenVerifier } from '@mpb/service-kit';
import jwt from 'jsonwebtoken';
import { AccessTokenIssuer } from './access-tokens';
import type { Keyring } from './ports';
import { generateSigningKeyPem, signingKeyFromPem } from './signing-keys';
import { accessTokenClaims, hashRefreshToken, isPlausibleRefreshToken, newRefreshToken } from './tokens';

const settings = { issuer: 'mpb-auth', audience: 'mpb-api', ttlSeconds: 900 };

describe('access token claims', () => {
  it('carries the user as a string subject, the session, the type and a 15-minute lifetime', () => {
    const now = new Date('2026-01-01T00:00:00.500Z');
    expect(accessTokenClaims({ userId: 42, sessionId: 's-1' }, settings, now)).toEqual({
      sub: '42',
      sid: 's-1',
      typ: 'access',
      iss: 'mpb-auth',
      aud: 'mpb-api',
      iat: 1767225600,
      exp: 1767225600 + 900,
    });
  });

  it('is signed with ES256 under the key id, and the platform verifier accepts it', async () => {
    const key = signingKeyFromPem(generateSigningKeyPem());
    const keyring: Keyring = { signingKey: () => key, publicKeys: async () => [key.publicJwk] };
    const token = new AccessTokenIssuer(keyring, settings).issue(
      { userId: 7, sessionId: 'sess' },
      new Date(),
    );
    const decoded = jwt.decode(token, { complete: true });
    expect(decoded?.header).toMatchObject({ alg: 'ES256', kid: key.kid });
    expect(Object.keys(decoded?.payload as object).sort()).toEqual([
      'aud',
      'exp',
      'iat',
      'iss',
      'sid',
      'sub',
      'typ',
    ]);
    const verifier = createTokenVerifier({
      loadKeys: keyring.publicKeys,
      issuer: settings.issuer,
      audience: settings.audience,
    });
    await expect(verifier.verify(token)).resolves.toEqual({ id: 7, sessionId: 'sess' });
  });
});

describe('refresh tokens', () => {
  it('are 32 random bytes, base64url, different every time', () => {
    const a = newRefreshToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(newRefreshToken()).not.toBe(a);
  });

  it('are stored as a SHA-256 hash, never as themselves', () => {
    const token = newRefreshToken();
    expect(hashRefreshToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRefreshToken(token)).not.toContain(token);
    expect(hashRefreshToken(token)).toBe(hashRefreshToken(token));
  });

  it('tell malformed input from merely unknown tokens', () => {
    expect(isPlausibleRefreshToken(newRefreshToken())).toBe(true);
    expect(isPlausibleRefreshToken('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl')).toBe(true);
    for (const bad of ['', 'short', 'has spaces in it here', 'x'.repeat(5000), 'ünïcödé-token-value-here']) {
      expect(isPlausibleRefreshToken(bad)).toBe(false);
    }
  });
});
