import { createHmac, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DEFAULT_TOKEN_AUDIENCE, DEFAULT_TOKEN_ISSUER } from '@mpb/contracts';
import { createLogger } from '@mpb/logger';
import { followSessionRevocations, type SessionRevocations } from '@mpb/service-kit';
import { startRevocationFeedStandIn, waitFor, type RevocationFeedStandIn } from '@mpb/test-kit';
import { closedPort, startEchoUpstream, type EchoUpstream } from './support/upstream';
import { deadRedis, redisClient, startGateway, type RunningGateway } from './support/gateway';
import { send } from './support/http';
import { accessToken, signingKey, startJwksServer, type JwksServer } from './support/tokens';

const key = signingKey('k1');
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const future = () => Math.floor(Date.now() / 1000) + 300;

let redis: Redis;
let upstream: EchoUpstream;
let jwks: JwksServer;
let gateway: RunningGateway;
let feed: RevocationFeedStandIn;
let revocations: SessionRevocations;
const silent = createLogger({ service: 'gateway-test', level: 'silent' });

beforeAll(async () => {
  redis = redisClient();
  upstream = await startEchoUpstream();
  jwks = await startJwksServer([key.jwk]);
  feed = await startRevocationFeedStandIn();
  revocations = await followSessionRevocations(feed.address, silent);
  gateway = await startGateway({ upstreams: { auth: upstream.url }, jwksUrl: jwks.url, redis, revocations });
});

afterAll(async () => {
  await gateway.close();
  await revocations.stop();
  await feed.close();
  await upstream.close();
  await jwks.close();
  await redis.quit();
});

beforeEach(() => {
  upstream.received.length = 0;
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('early token verification', () => {
  it('passes a valid token through, Authorization header included', async () => {
    const token = accessToken({ key });
    const res = await send(gateway.url, '/api/users/me', { headers: bearer(token) });
    expect(res.status).toBe(200);
    expect(upstream.received[0]?.headers.authorization).toBe(`Bearer ${token}`);
  });

  it('accepts the scheme in any case', async () => {
    const res = await send(gateway.url, '/api/users/me', {
      headers: { authorization: `bEaReR ${accessToken({ key })}` },
    });
    expect(res.status).toBe(200);
  });

  it('lets a request without Authorization through: the service decides', async () => {
    const res = await send(gateway.url, '/api/users/7');
    expect(res.status).toBe(200);
    expect(upstream.received).toHaveLength(1);
  });

  const forged: Array<[string, () => string]> = [
    [
      'alg none',
      () =>
        `${b64({ alg: 'none', typ: 'JWT', kid: 'k1' })}.${b64({ sub: '7', typ: 'access', iss: DEFAULT_TOKEN_ISSUER, aud: DEFAULT_TOKEN_AUDIENCE, exp: future() })}.`,
    ],
    [
      'HS256 signed with the public key',
      () => {
        const header = b64({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
        const payload = b64({
          sub: '7',
          typ: 'access',
          iss: DEFAULT_TOKEN_ISSUER,
          aud: DEFAULT_TOKEN_AUDIENCE,
          exp: future(),
        });
        const pem = key.publicKey.export({ type: 'spki', format: 'pem' });
        return `${header}.${payload}.${createHmac('sha256', pem).update(`${header}.${payload}`).digest('base64url')}`;
      },
    ],
    ['wrong issuer', () => accessToken({ key, issuer: 'someone-else' })],
    ['wrong audience', () => accessToken({ key, audience: 'another-api' })],
    ['expired', () => accessToken({ key, expiresIn: -10 })],
    [
      'tampered payload',
      () => {
        const [h, , s] = accessToken({ key }).split('.');
        return `${h}.${b64({ sub: '1', typ: 'access', iss: DEFAULT_TOKEN_ISSUER, aud: DEFAULT_TOKEN_AUDIENCE, exp: future() })}.${s}`;
      },
    ],
    ['unknown kid', () => accessToken({ key: signingKey('k9') })],
    ['our kid, another key', () => accessToken({ key: signingKey('k1') })],
    ['garbage', () => 'not-a-jwt'],
  ];

  it.each(forged)('refuses %s with 401 before the service sees it', async (_name, token) => {
    const res = await send(gateway.url, '/api/users/me', { headers: bearer(token()) });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error: 'invalid token', code: 'UNAUTHENTICATED' });
    expect(upstream.received).toHaveLength(0);
  });

  it('refuses a header that is not a bearer token with the old message', async () => {
    for (const authorization of ['Basic YWxhZGRpbjpvcGVuc2VzYW1l', 'Bearer', 'Bearer a b', 'token']) {
      const res = await send(gateway.url, '/api/users/me', { headers: { authorization } });
      expect(res.status).toBe(401);
      expect(res.json()).toMatchObject({ error: 'invalid token format', code: 'UNAUTHENTICATED' });
    }
    expect(upstream.received).toHaveLength(0);
  });

  it('refuses a bad token on a route that needs no sign-in too', async () => {
    const res = await send(gateway.url, '/api/users/7', { headers: bearer('not-a-jwt') });
    expect(res.status).toBe(401);
    expect(upstream.received).toHaveLength(0);
  });

  it('answers a refused request at once while its body is still arriving', async () => {
    const chunks = Array.from({ length: 40 }, () => Buffer.alloc(1024, 1));
    const res = await send(gateway.url, '/api/users/7', {
      method: 'PUT',
      headers: { ...bearer('not-a-jwt'), 'content-length': String(40 * 1024) },
      chunks,
      gapMs: 20,
    });
    expect(res.status).toBe(401);
    expect(res.ms).toBeLessThan(500);
  });

  it('refuses a token of a session within a second of auth listing it as revoked', async () => {
    const sid = `revoked-${randomUUID()}`;
    const token = accessToken({ key, sid });
    expect((await send(gateway.url, '/api/users/me', { headers: bearer(token) })).status).toBe(200);
    feed.revoke(sid);
    const revokedAt = Date.now();
    const res = await waitFor(
      async () => {
        const r = await send(gateway.url, '/api/users/me', { headers: bearer(token) });
        return r.status === 401 ? r : undefined;
      },
      2000,
      20,
    );
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expect(res.json()).toMatchObject({ error: 'invalid token' });
    // Only the requests before the revocation reached the service.
    expect(upstream.received.length).toBeGreaterThanOrEqual(1);
    const before = upstream.received.length;
    expect((await send(gateway.url, '/api/users/me', { headers: bearer(token) })).status).toBe(401);
    expect(upstream.received).toHaveLength(before);
  });

  it.each(['/api/auth/refresh', '/api/auth/login', '/api/auth/register'])(
    'lets %s through with an expired token',
    async (path) => {
      const res = await send(gateway.url, path, {
        method: 'POST',
        headers: { ...bearer(accessToken({ key, expiresIn: -60 })), 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(200);
      expect(upstream.received[0]?.url).toBe(path);
    },
  );

  it('still verifies the other auth routes', async () => {
    const res = await send(gateway.url, '/api/auth/logout', {
      method: 'POST',
      headers: bearer(accessToken({ key, expiresIn: -60 })),
    });
    expect(res.status).toBe(401);
  });

  it('fetches the keys once and caches them', async () => {
    const before = jwks.fetches();
    for (let i = 0; i < 5; i += 1)
      await send(gateway.url, '/api/users/me', { headers: bearer(accessToken({ key })) });
    expect(jwks.fetches() - before).toBe(0);
  });
});

describe('when a dependency of verification is down', () => {
  it('answers 503, not 401 or 500, when the keys cannot be fetched', async () => {
    const noKeys = await startGateway({
      upstreams: { auth: upstream.url },
      jwksUrl: `http://127.0.0.1:${await closedPort()}`,
      redis,
    });
    try {
      const res = await send(noKeys.url, '/api/users/me', { headers: bearer(accessToken({ key })) });
      expect(res.status).toBe(503);
      expect(res.json()).toMatchObject({ error: 'authentication keys unavailable', code: 'UNAVAILABLE' });
      expect(upstream.received).toHaveLength(0);
    } finally {
      await noKeys.close();
    }
  });

  it('answers 503 while the revoked sessions have never been loaded (auth unreachable since start-up)', async () => {
    const unloaded = await followSessionRevocations(`127.0.0.1:${await closedPort()}`, silent, {
      startupWaitMs: 0,
    });
    const noFeed = await startGateway({
      upstreams: { auth: upstream.url },
      jwksUrl: jwks.url,
      redis,
      revocations: unloaded,
    });
    try {
      const res = await send(noFeed.url, '/api/users/me', { headers: bearer(accessToken({ key })) });
      expect(res.status).toBe(503);
      expect(res.json()).toMatchObject({
        error: 'authentication unavailable, try again later',
        code: 'UNAVAILABLE',
      });
      expect(upstream.received).toHaveLength(0);
      // A request without a token needs no revocation list.
      expect((await send(noFeed.url, '/api/users/7')).status).toBe(200);
    } finally {
      await noFeed.close();
      await unloaded.stop();
    }
  });

  it('verifies tokens and refuses revoked sessions with Redis down: revocation never touches Redis', async () => {
    const sid = `revoked-${randomUUID()}`;
    feed.revoke(sid);
    await waitFor(async () => (revocations.isRevoked(sid) ? true : undefined), 2000, 20);
    const down = await deadRedis(await closedPort());
    const noRedis = await startGateway({
      upstreams: { auth: upstream.url },
      jwksUrl: jwks.url,
      redis: down,
      revocations,
    });
    try {
      expect(
        (await send(noRedis.url, '/api/users/me', { headers: bearer(accessToken({ key })) })).status,
      ).toBe(200);
      const revoked = await send(noRedis.url, '/api/users/me', {
        headers: bearer(accessToken({ key, sid })),
      });
      expect(revoked.status).toBe(401);
    } finally {
      await noRedis.close();
    }
  });
});
