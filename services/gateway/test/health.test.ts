import type { Redis } from 'ioredis';
import { closedPort, startEchoUpstream, type EchoUpstream } from './support/upstream';
import { deadRedis, redisClient, startGateway, type RunningGateway } from './support/gateway';
import { send } from './support/http';
import { compileRoutes, ROUTES } from '../src/http/routes';

const ROUTED = compileRoutes(ROUTES).upstreams();
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
  upstream.readyStatus = 200;
  await Promise.all(open.splice(0).map((g) => g.close()));
});

afterAll(async () => {
  await upstream.close();
  await jwks.close();
  await redis.quit();
});

async function gateway(o: { auth?: string; redis?: Redis; env?: Record<string, string> } = {}) {
  const g = await startGateway({
    env: o.env,
    // Every routed service is the healthy stand-in unless a test makes auth the broken one.
    upstreams: { ...Object.fromEntries(ROUTED.map((n) => [n, upstream.url])), auth: o.auth ?? upstream.url },
    jwksUrl: jwks.url,
    redis: o.redis ?? redis,
  });
  open.push(g);
  return g;
}

describe('GET /health', () => {
  it('answers 200 when every routed service is ready and Redis answers', async () => {
    const res = await send((await gateway()).url, '/health');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      status: 'ok',
      services: Object.fromEntries(ROUTED.map((n) => [n, 'ok'])),
      redis: 'ok',
    });
  });

  it('answers 503 naming a service that is down, within the health timeout', async () => {
    const res = await send(
      (await gateway({ auth: `http://127.0.0.1:${await closedPort()}` })).url,
      '/health',
    );
    expect(res.status).toBe(503);
    expect(res.json()).toMatchObject({
      status: 'unavailable',
      services: { auth: 'unreachable' },
      redis: 'ok',
      failing: ['auth'],
    });
    expect(res.ms).toBeLessThan(1000);
  });

  it('answers 503 when a service reports itself not ready', async () => {
    upstream.readyStatus = 503;
    const res = await send((await gateway()).url, '/health');
    expect(res.status).toBe(503);
    // The one stand-in plays every service here, so each routed one reports it.
    expect(res.json()).toMatchObject({ services: { auth: 'not ready (503)' }, failing: [...ROUTED].sort() });
  });

  it('answers 503 naming Redis when Redis is down', async () => {
    const res = await send((await gateway({ redis: await deadRedis(await closedPort()) })).url, '/health');
    expect(res.status).toBe(503);
    expect(res.json()).toMatchObject({ services: { auth: 'ok' }, failing: ['redis'] });
  });
});

describe('GET /health under load', () => {
  it('checks the services at most once per HEALTH_CACHE_MS however many callers ask', async () => {
    // A long cache, so a slow shared machine cannot stretch the calls past it.
    const g = await gateway({ env: { HEALTH_CACHE_MS: '20000' } });
    const before = upstream.readyCalls;
    // Sixty callers at once share one round of checks (one /readyz per routed service).
    const replies = await Promise.all(Array.from({ length: 60 }, () => send(g.url, '/health')));
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
    expect(upstream.readyCalls - before).toBe(ROUTED.length);
    // Later callers within the cache time get the same answer without asking again.
    for (let i = 0; i < 20; i += 1) expect((await send(g.url, '/health')).status).toBe(200);
    expect(upstream.readyCalls - before).toBe(ROUTED.length);
  });

  it('asks again once the answer is HEALTH_CACHE_MS old, and a change shows', async () => {
    const g = await gateway({ env: { HEALTH_CACHE_MS: '300' } });
    expect((await send(g.url, '/health')).status).toBe(200);
    const before = upstream.readyCalls;
    upstream.readyStatus = 503;
    await new Promise((r) => setTimeout(r, 400));
    const later = await send(g.url, '/health');
    expect(later.status).toBe(503);
    expect(upstream.readyCalls - before).toBe(ROUTED.length);
  });
});

describe('own probes', () => {
  it('is live and ready with Redis, not ready without it', async () => {
    const g = await gateway();
    expect((await send(g.url, '/livez')).status).toBe(200);
    expect((await send(g.url, '/readyz')).json()).toMatchObject({ status: 'ok', checks: { redis: 'ok' } });
    const noRedis = await gateway({ redis: await deadRedis(await closedPort()) });
    expect((await send(noRedis.url, '/readyz')).status).toBe(503);
  });

  it('exposes Prometheus metrics including the upstream durations on its metrics port only', async () => {
    const g = await gateway();
    await send(g.url, '/api/users');
    const hidden = await send(g.url, '/metrics');
    expect(hidden.status).toBe(404);
    expect(hidden.body.toString()).not.toContain('nodejs_version_info');
    const res = await send(g.metricsUrl, '/metrics');
    expect(res.body.toString()).toContain('gateway_upstream_request_duration_seconds_bucket{');
    expect(res.body.toString()).toMatch(/upstream="auth",route="users",status="200"/);
  });
});
