import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

export const SIGNING_ALGORITHM = 'ES256';

/** A public key as published in the JWKS: nothing that could reveal the private part. */
export type PublicJwk = {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: typeof SIGNING_ALGORITHM;
  use: 'sig';
};

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: PublicJwk;
}

/** A fresh EC P-256 private key as PKCS#8 PEM. */
export function generateSigningKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The key id is the RFC 7638 thumbprint: the same key always gets the same id, on every replica. */
export function signingKeyFromPem(pem: string): SigningKey {
  const privateKey = createPrivateKey({ key: pem, format: 'pem' });
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('the signing key must be an EC P-256 private key');
  }
  const full = createPublicKey(privateKey).export({ format: 'jwk' });
  if (typeof full.x !== 'string' || typeof full.y !== 'string') throw new Error('unexpected EC public key');
  const thumbprint = createHash('sha256')
    .update(JSON.stringify({ crv: 'P-256', kty: 'EC', x: full.x, y: full.y }))
    .digest('base64url');
  return {
    kid: thumbprint,
    privateKey,
    publicJwk: {
      kty: 'EC',
      crv: 'P-256',
      x: full.x,
      y: full.y,
      kid: thumbprint,
      alg: SIGNING_ALGORITHM,
      use: 'sig',
    },
  };
}
