import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { DEFAULT_TOKEN_AUDIENCE, DEFAULT_TOKEN_ISSUER } from '@mpb/contracts';
import { api, newUser, type TestUser } from './client';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

describe('token attacks through the gateway are answered 401', () => {
  let user: TestUser;
  let kid: string;
  let publicPem: string;
  let sessionId: string;
  const key = () => createPrivateKey(process.env.E2E_SIGNING_KEY_PEM as string);

  const forge = (
    claims: Record<string, unknown>,
    o: { omitExp?: boolean; kid?: string; header?: Record<string, unknown> } = {},
  ) =>
    jwt.sign(
      {
        sub: String(user.id),
        sid: sessionId,
        typ: 'access',
        iss: DEFAULT_TOKEN_ISSUER,
        aud: DEFAULT_TOKEN_AUDIENCE,
        iat: now(),
        ...(o.omitExp ? {} : { exp: now() + 300 }),
        ...claims,
      },
      key(),
      {
        algorithm: 'ES256',
        keyid: o.kid ?? kid,
        ...(o.header ? { header: { alg: 'ES256', kid: o.kid ?? kid, ...o.header } as jwt.JwtHeader } : {}),
      },
    );

  beforeAll(async () => {
    user = await newUser();
    // Forged tokens reuse the user's real session, so they differ from a genuine token in one detail only.
    sessionId = (jwt.decode(user.token) as { sid: string }).sid;
    const jwks = await api('GET', '/api/auth/jwks');
    expect(jwks.status).toBe(200);
    const jwk = jwks.body.keys[0];
    expect(jwk.d).toBeUndefined();
    kid = jwk.kid;
    publicPem = createPublicKey(key()).export({ type: 'spki', format: 'pem' }) as string;
  });

  it('accepts a token forged with the real key and claims (the control case)', async () => {
    expect((await api('GET', '/api/auth/me', { token: forge({}) })).status).toBe(200);
  });

  const cases: Array<[string, () => string | undefined, string?]> = [
    ['no token', () => undefined, 'missing token'],
    [
      'alg none',
      () =>
        `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64({ sub: String(user.id), typ: 'access', iss: DEFAULT_TOKEN_ISSUER, aud: DEFAULT_TOKEN_AUDIENCE, exp: now() + 300 })}.`,
    ],
    [
      'HS256 signed with the public key',
      () => {
        const h = b64({ alg: 'HS256', typ: 'JWT', kid });
        const p = b64({
          sub: String(user.id),
          typ: 'access',
          iss: DEFAULT_TOKEN_ISSUER,
          aud: DEFAULT_TOKEN_AUDIENCE,
          exp: now() + 300,
        });
        return `${h}.${p}.${createHmac('sha256', publicPem).update(`${h}.${p}`).digest('base64url')}`;
      },
    ],
    ['expired by a second', () => forge({ iat: now() - 60, exp: now() - 1 })],
    ['missing exp', () => forge({}, { omitExp: true })],
    ['wrong issuer', () => forge({ iss: 'someone-else' })],
    ['wrong audience', () => forge({ aud: 'other-api' })],
    ['kid that does not exist', () => forge({}, { kid: 'does-not-exist' })],
    ['kid carrying a path', () => forge({}, { kid: '../../../dev/null' })],
    ['jku header', () => forge({}, { header: { jku: 'http://127.0.0.1:9/jwks.json' } })],
    ['x5u header', () => forge({}, { header: { x5u: 'http://127.0.0.1:9/cert.pem' } })],
    [
      'signed by another key',
      () =>
        jwt.sign(
          {
            sub: String(user.id),
            typ: 'access',
            iss: DEFAULT_TOKEN_ISSUER,
            aud: DEFAULT_TOKEN_AUDIENCE,
            exp: now() + 300,
          },
          generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
          { algorithm: 'ES256', keyid: kid },
        ),
    ],
    [
      'tampered payload',
      () => {
        const [h, , s] = forge({}).split('.');
        return `${h}.${b64({ sub: '1', typ: 'access', iss: DEFAULT_TOKEN_ISSUER, aud: DEFAULT_TOKEN_AUDIENCE, exp: now() + 300 })}.${s}`;
      },
    ],
    ['refresh token used as an access token', () => user.refreshToken],
  ];

  it.each(cases.map(([name, token, message]) => ({ name, token, message })))(
    '$name',
    async ({ token, message }) => {
      const res = await api('GET', '/api/auth/me', { token: token() });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
      if (message) expect(res.body.error).toBe(message);
    },
  );

  it.each([
    ['Token abc', 'invalid token format'],
    ['Bearer', 'invalid token format'],
    ['Basic dXNlcjpwYXNz', 'invalid token format'],
  ])('a malformed Authorization header (%s) is answered %s', async (header, message) => {
    const res = await api('GET', '/api/auth/me', { headers: { authorization: header } });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe(message);
  });

  it('accepts "bearer" in any case', async () => {
    expect(
      (await api('GET', '/api/auth/me', { headers: { authorization: `bEaReR ${user.token}` } })).status,
    ).toBe(200);
  });

  it('ignores identity headers a client sends', async () => {
    const res = await api('GET', '/api/auth/me', {
      headers: { 'x-user-id': String(user.id), 'x-authenticated-userid': String(user.id) },
    });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('missing token');
  });

  it('refuses the access token of a logged-out session', async () => {
    const u = await newUser();
    expect((await api('POST', '/api/auth/logout', { token: u.token })).status).toBe(204);
    expect((await api('GET', '/api/auth/me', { token: u.token })).status).toBe(401);
  });
});
