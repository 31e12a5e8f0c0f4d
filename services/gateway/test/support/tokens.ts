import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { DEFAULT_TOKEN_AUDIENCE, DEFAULT_TOKEN_ISSUER, JWKS_PATH } from '@mpb/contracts';
import type { Jwk } from '@mpb/service-kit';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: Jwk;
}

export function signingKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { ...(publicKey.export({ format: 'jwk' }) as Jwk), kid, alg: 'ES256', use: 'sig' },
  };
}

export interface TokenOptions {
  key: SigningKey;
  kid?: string;
  sub?: string;
  sid?: string;
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
}

/** An access token as auth mints it (ES256, kid, iss, aud, typ=access, sid). */
export function accessToken(o: TokenOptions): string {
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign(
    {
      sub: o.sub ?? '7',
      typ: 'access',
      sid: o.sid ?? 'session-1',
      iat: now - 120,
      exp: now + (o.expiresIn ?? 300),
    },
    o.key.privateKey,
    {
      algorithm: 'ES256',
      keyid: o.kid ?? o.key.kid,
      issuer: o.issuer ?? DEFAULT_TOKEN_ISSUER,
      audience: o.audience ?? DEFAULT_TOKEN_AUDIENCE,
    },
  );
}

export interface JwksServer {
  url: string;
  fetches: () => number;
  close(): Promise<void>;
}

/** Serves the public keys at JWKS_PATH, as auth does. */
export async function startJwksServer(keys: Jwk[]): Promise<JwksServer> {
  let fetches = 0;
  const server = http.createServer((req, res) => {
    if (req.url !== JWKS_PATH) {
      res.writeHead(404).end();
      return;
    }
    fetches += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fetches: () => fetches,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
