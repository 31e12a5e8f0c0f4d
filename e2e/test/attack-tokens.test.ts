import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { DEFAULT_TOKEN_AUDIENCE, DEFAULT_TOKEN_ISSUER } from '@mpb/contracts';
import {
  api,
  apiAt,
  gatewayUrl,
  newUser,
  serviceUrl,
  uniq,
  type ApiResponse,
  type ServiceName,
  type TestUser,
} from './client';

// Every forged token below is refused by the gateway AND by each service on its own port: a
// service reachable inside the cluster must not trust that the gateway looked at the token.

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const hs256 = (secret: string | Buffer, header: object, payload: object) => {
  const signingInput = `${b64(header)}.${b64(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
};

interface ProtectedRoute {
  service: ServiceName;
  method: string;
  path: () => string;
  body?: () => unknown;
  /** What a genuine token gets: proves the route would let the forged one through if it passed. */
  accepted: number;
}

describe('forged and misused tokens are refused by the gateway and by every service itself', () => {
  let user: TestUser;
  let kid: string;
  let sessionId: string;
  let postId: number;
  const tag = uniq('tok');
  const signingKey = (): KeyObject => createPrivateKey(process.env.E2E_SIGNING_KEY_PEM as string);
  const attackerKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const attackerKid = 'attacker-key';

  /** A key server on the attacker's side: jku/x5u point here, and nobody may ever ask it. */
  let keyServer: Server;
  let keyServerUrl: string;
  const keyServerHits: string[] = [];

  const claims = (extra: Record<string, unknown> = {}) => ({
    sub: String(user.id),
    sid: sessionId,
    typ: 'access',
    iss: DEFAULT_TOKEN_ISSUER,
    aud: DEFAULT_TOKEN_AUDIENCE,
    iat: now(),
    exp: now() + 300,
    ...extra,
  });

  /**
   * Signed with the platform's real key: valid in every detail but the one a case changes. Signed
   * by hand, since jsonwebtoken refuses to produce most of these tokens (a missing exp stays
   * missing, a string exp stays a string).
   */
  const forge = (
    extra: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    key?: KeyObject,
  ) => {
    const signingInput = `${b64({ alg: 'ES256', typ: 'JWT', kid, ...header })}.${b64(claims(extra))}`;
    const signature = sign('sha256', Buffer.from(signingInput), {
      key: key ?? signingKey(),
      dsaEncoding: 'ieee-p1363',
    });
    return `${signingInput}.${signature.toString('base64url')}`;
  };

  const routes: ProtectedRoute[] = [
    { service: 'auth', method: 'GET', path: () => '/api/auth/me', accepted: 200 },
    {
      service: 'posts',
      method: 'POST',
      path: () => '/api/posts',
      body: () => ({ title: 'Token probe', description: 'Created only by a genuine token.', tag }),
      accepted: 201,
    },
    {
      service: 'comments',
      method: 'POST',
      path: () => '/api/comments',
      body: () => ({ post_id: postId, text: `token probe ${tag}` }),
      accepted: 201,
    },
    { service: 'metrics', method: 'GET', path: () => `/api/posts/${postId}/like`, accepted: 200 },
    {
      service: 'attachments',
      method: 'DELETE',
      path: () => '/api/posts/attachments/987654321',
      accepted: 404,
    },
  ];
  const targets = routes.flatMap((r) => [
    { via: 'gateway', base: gatewayUrl, ...r },
    { via: 'own port', base: () => serviceUrl(r.service), ...r },
  ]);
  const call = (t: (typeof targets)[number], authorization: string | undefined): Promise<ApiResponse> =>
    apiAt(t.base(), t.method, t.path(), {
      body: t.body?.(),
      headers: authorization === undefined ? {} : { authorization },
    });

  beforeAll(async () => {
    keyServer = createServer((req, res) => {
      keyServerHits.push(req.url ?? '');
      const jwk = { ...createPublicKey(attackerKey).export({ format: 'jwk' }), kid: attackerKid, use: 'sig' };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    keyServerUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`;

    user = await newUser();
    sessionId = (jwt.decode(user.token) as { sid: string }).sid;
    kid = (jwt.decode(user.token, { complete: true })!.header as { kid: string }).kid;
    const post = await api('POST', '/api/posts', {
      token: user.token,
      body: { title: 'Token target', description: 'The post the probes aim at.' },
    });
    expect(post.status).toBe(201);
    postId = post.body.id;
  });

  afterAll(async () => {
    await new Promise((resolve) => keyServer?.close(resolve));
  });

  it('lets a token forged with the real key and claims through everywhere (the control case)', async () => {
    for (const t of targets) {
      const res = await call(t, `Bearer ${forge()}`);
      expect({ target: `${t.service} via ${t.via}`, status: res.status }).toEqual({
        target: `${t.service} via ${t.via}`,
        status: t.accepted,
      });
    }
  });

  const publicPem = () => createPublicKey(signingKey()).export({ type: 'spki', format: 'pem' }) as string;
  const publicJwk = () => createPublicKey(signingKey()).export({ format: 'jwk' });

  const cases: Array<[string, () => string]> = [
    ['alg none', () => `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(claims())}.`],
    ['alg "None" with a signature', () => `${b64({ alg: 'None', kid })}.${b64(claims())}.c2ln`],
    ['HS256 signed with the public key PEM', () => hs256(publicPem(), { alg: 'HS256', kid }, claims())],
    [
      'HS256 signed with the public key as JWK JSON',
      () => hs256(JSON.stringify({ ...publicJwk(), kid }), { alg: 'HS256', kid }, claims()),
    ],
    [
      'HS256 signed with the public key DER',
      () =>
        hs256(
          createPublicKey(signingKey()).export({ type: 'spki', format: 'der' }),
          { alg: 'HS256', kid },
          claims(),
        ),
    ],
    ['RS256 claimed over an ES256 signature', () => forge().replace(/^[^.]+/, b64({ alg: 'RS256', kid }))],
    ['kid that does not exist', () => forge({}, { kid: 'no-such-key' })],
    ['kid with path traversal', () => forge({}, { kid: '../../../../../../dev/null' })],
    ['kid with an absolute path', () => forge({}, { kid: '/etc/passwd' })],
    ['kid with SQL', () => forge({}, { kid: "x' UNION SELECT 'secret' --" })],
    ['kid that is not a string', () => forge({}, { kid: { $ne: null } })],
    [
      'jku pointing at the attacker key server, signed by the attacker',
      () => forge({}, { kid: attackerKid, jku: `${keyServerUrl}/jwks.json` }, attackerKey),
    ],
    ['jku beside the real kid and key', () => forge({}, { jku: `${keyServerUrl}/jwks.json` })],
    [
      'x5u pointing at the attacker, signed by the attacker',
      () => forge({}, { kid: attackerKid, x5u: `${keyServerUrl}/cert.pem` }, attackerKey),
    ],
    ['x5u beside the real kid and key', () => forge({}, { x5u: `${keyServerUrl}/cert.pem` })],
    [
      'the attacker key embedded as jwk header',
      () =>
        forge(
          {},
          { kid: attackerKid, jwk: { ...createPublicKey(attackerKey).export({ format: 'jwk' }) } },
          attackerKey,
        ),
    ],
    ['signed by another key under the real kid', () => forge({}, {}, attackerKey)],
    ['wrong issuer', () => forge({ iss: 'https://evil.example' })],
    ['no issuer', () => forge({ iss: undefined })],
    ['wrong audience', () => forge({ aud: 'another-api' })],
    ['audience list without ours', () => forge({ aud: ['x', 'y'] })],
    ['expired by one second', () => forge({ iat: now() - 901, exp: now() - 1 })],
    ['missing exp', () => forge({ exp: undefined })],
    ['exp as a string', () => forge({ exp: String(now() + 300) })],
    ['not valid before a minute from now', () => forge({ nbf: now() + 60 })],
    ['typ refresh', () => forge({ typ: 'refresh' })],
    ['no typ', () => forge({ typ: undefined })],
    ['subject that is not a user id', () => forge({ sub: '1 OR 1=1' })],
    ['subject as a number', () => forge({ sub: user.id })],
    ['a refresh token used as the bearer token', () => user.refreshToken],
    ['the access token of a logged-out session', () => loggedOutToken],
    ['a token with a trailing dot segment', () => `${forge()}.extra`],
  ];
  let loggedOutToken: string;

  describe('each case, at every protected route', () => {
    beforeAll(async () => {
      const u = await newUser();
      expect((await api('POST', '/api/auth/logout', { token: u.token })).status).toBe(204);
      loggedOutToken = u.token;
      // Every verifier applies a revocation within a second (auth's revocation feed, README).
      await new Promise((resolve) => setTimeout(resolve, 1000));
    });

    it.each(cases)('%s → 401 from the gateway and from each service', async (_name, token) => {
      const value = token();
      const answers = await Promise.all(
        targets.map(async (t) => {
          const res = await call(t, `Bearer ${value}`);
          return { target: `${t.service} via ${t.via}`, status: res.status, code: res.body?.code };
        }),
      );
      expect(answers).toEqual(
        targets.map((t) => ({ target: `${t.service} via ${t.via}`, status: 401, code: 'UNAUTHENTICATED' })),
      );
    });
  });

  it('never fetches a key from a jku or x5u a token names', () => {
    expect(keyServerHits).toEqual([]);
  });

  it('created nothing for any refused token: only the two control requests left a post and a comment', async () => {
    const posts = await api('GET', `/api/posts?tag=${tag}`);
    expect(posts.headers.get('x-total-count')).toBe('2');
    const comments = await api('GET', `/api/posts/${postId}/comments`);
    expect(comments.body.filter((c: { text: string }) => c.text === `token probe ${tag}`)).toHaveLength(2);
  });

  it('lets several racing refreshes with one refresh token succeed at most once', async () => {
    const u = await newUser();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        api('POST', '/api/auth/refresh', { body: { refresh_token: u.refreshToken } }),
      ),
    );
    const granted = answers.filter((a) => a.status === 200);
    expect(granted.length).toBeLessThanOrEqual(1);
    for (const a of answers) expect([200, 401]).toContain(a.status);
    // The losers were a reuse of the rotated token: the whole session is gone, the winner's tokens too.
    for (const g of granted) {
      expect((await api('GET', '/api/auth/me', { token: g.body.access_token })).status).toBe(401);
      expect(
        (await api('POST', '/api/auth/refresh', { body: { refresh_token: g.body.refresh_token } })).status,
      ).toBe(401);
    }
  });
});
