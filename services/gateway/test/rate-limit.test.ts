import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { closedPort, startEchoUpstream, type EchoUpstream } from './support/upstream';
import {
  deadRedis,
  redisClient,
  startGateway,
  type GatewayOptions,
  type RunningGateway,
} from './support/gateway';
import { send } from './support/http';
import { startJwksServer, signingKey, type JwksServer } from './support/tokens';

let redis: Redis;
let upstream: EchoUpstream;
let jwks: JwksServer;
const open: RunningGateway[] = [];

beforeAll(async () => {
  redis = redisClient();
  upstream = await startEchoUpstream();
  jwks = await startJwksServer([signingKey('k1').jwk]);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
});

afterAll(async () => {
  await upstream.close();
  await jwks.close();
  await redis.quit();
});

/** A gateway allowing `max` sign-ins per window, with a key prefix of its own unless one is given. */
async function gatewayWith(
  max: number,
  windowSeconds = 60,
  extra: Partial<GatewayOptions> = {},
  keyPrefix = `test:rate:${randomUUID()}:`,
) {
  const g = await startGateway({
    upstreams: { auth: upstream.url },
    jwksUrl: jwks.url,
    redis,
    ...extra,
    env: {
      RATE_LIMIT_AUTH_MAX: String(max),
      RATE_LIMIT_AUTH_WINDOW_SECONDS: String(windowSeconds),
      ...extra.env,
    },
    settings: { rateLimitKeyPrefix: keyPrefix, ...extra.settings },
  });
  open.push(g);
  return g;
}

const login = (g: RunningGateway, headers: Record<string, string> = {}) =>
  send(g.url, '/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{"username":"ann","password":"secret"}',
  });

describe('sign-in rate limit', () => {
  it('refuses the request after the limit with 429, the old-style body and Retry-After', async () => {
    const g = await gatewayWith(3, 60);
    for (let i = 0; i < 3; i += 1) expect((await login(g)).status).toBe(200);
    const res = await login(g);
    expect(res.status).toBe(429);
    expect(res.json()).toMatchObject({ error: 'too many requests, try again later', code: 'RATE_LIMITED' });
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('is not reset by a made-up X-Forwarded-For when no proxy is trusted', async () => {
    const g = await gatewayWith(2);
    expect((await login(g, { 'x-forwarded-for': '10.0.0.1' })).status).toBe(200);
    expect((await login(g, { 'x-forwarded-for': '10.0.0.2' })).status).toBe(200);
    expect((await login(g, { 'x-forwarded-for': '10.0.0.3' })).status).toBe(429);
    expect((await login(g, { 'x-forwarded-for': `10.0.${Math.floor(Math.random() * 250)}.9` })).status).toBe(
      429,
    );
  });

  it('counts per client address when the load balancer in front is trusted (TRUST_PROXY=1)', async () => {
    const g = await gatewayWith(1, 60, { env: { TRUST_PROXY: '1' } });
    expect((await login(g, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(200);
    expect((await login(g, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(429);
    expect((await login(g, { 'x-forwarded-for': '203.0.113.2' })).status).toBe(200);
  });

  it('keeps login and register in separate buckets and leaves other routes alone', async () => {
    const g = await gatewayWith(1);
    expect((await login(g)).status).toBe(200);
    expect((await login(g)).status).toBe(429);
    expect((await send(g.url, '/api/auth/register', { method: 'POST', body: '{}' })).status).toBe(200);
    expect((await send(g.url, '/api/auth/refresh', { method: 'POST', body: '{}' })).status).toBe(200);
    expect((await send(g.url, '/api/auth/refresh', { method: 'POST', body: '{}' })).status).toBe(200);
  });

  it('limits path variants that reach the same login route', async () => {
    const g = await gatewayWith(1);
    expect((await login(g)).status).toBe(200);
    expect((await send(g.url, '/API/Auth/LOGIN', { method: 'POST', body: '{}' })).status).toBe(429);
    expect((await send(g.url, '/api/auth/login/', { method: 'POST', body: '{}' })).status).toBe(429);
    expect((await send(g.url, '/api/auth/login?x=1', { method: 'POST', body: '{}' })).status).toBe(429);
  });

  it('shares one bucket between gateway replicas', async () => {
    const prefix = `test:rate:${randomUUID()}:`;
    const a = await gatewayWith(3, 60, {}, prefix);
    const b = await gatewayWith(3, 60, {}, prefix);
    expect((await login(a)).status).toBe(200);
    expect((await login(b)).status).toBe(200);
    expect((await login(a)).status).toBe(200);
    expect((await login(b)).status).toBe(429);
    expect((await login(a)).status).toBe(429);
  });

  it('counts every one of many concurrent requests exactly once', async () => {
    const g = await gatewayWith(5);
    const statuses = await Promise.all(Array.from({ length: 12 }, () => login(g).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });

  it('opens again when the window is over', async () => {
    const g = await gatewayWith(1, 1);
    expect((await login(g)).status).toBe(200);
    expect((await login(g)).status).toBe(429);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await login(g)).status).toBe(200);
  });

  it('lets sign-ins through when Redis is down (fail open), never a 500', async () => {
    const g = await gatewayWith(1, 60, { redis: await deadRedis(await closedPort()) });
    for (let i = 0; i < 3; i += 1) expect((await login(g)).status).toBe(200);
  });
});
