import type { Redis } from 'ioredis';
import { startEchoUpstream, type EchoUpstream } from './support/upstream';
import { redisClient, startGateway, type RunningGateway } from './support/gateway';
import { send } from './support/http';
import { startJwksServer, signingKey, type JwksServer } from './support/tokens';

let redis: Redis;
let upstream: EchoUpstream;
let jwks: JwksServer;
const gateways: Record<'none' | 'listed' | 'any', RunningGateway> = {} as never;

beforeAll(async () => {
  redis = redisClient();
  upstream = await startEchoUpstream();
  jwks = await startJwksServer([signingKey('k1').jwk]);
  const start = (env: Record<string, string>) =>
    startGateway({ upstreams: { auth: upstream.url }, jwksUrl: jwks.url, redis, env });
  gateways.none = await start({});
  gateways.listed = await start({
    CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
    CORS_ALLOW_CREDENTIALS: 'true',
  });
  gateways.any = await start({ CORS_ORIGINS: '*' });
});

afterAll(async () => {
  await Promise.all(Object.values(gateways).map((g) => g.close()));
  await upstream.close();
  await jwks.close();
  await redis.quit();
});

beforeEach(() => {
  upstream.received.length = 0;
});

const preflight = (g: RunningGateway, origin: string) =>
  send(g.url, '/api/auth/login', {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, authorization',
    },
  });

describe('CORS', () => {
  it('allows no cross-origin caller by default', async () => {
    const res = await send(gateways.none.url, '/api/users', {
      headers: { origin: 'https://app.example.com' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const pre = await preflight(gateways.none, 'https://app.example.com');
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a preflight from a listed origin at the gateway with 204', async () => {
    const res = await preflight(gateways.listed, 'https://app.example.com');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-allow-methods']).toContain('POST');
    expect(res.headers['access-control-allow-headers']).toMatch(/authorization/i);
    expect(res.headers.vary).toMatch(/origin/i);
    expect(upstream.received).toHaveLength(0);
  });

  it('marks responses to a listed origin and exposes the request id', async () => {
    const res = await send(gateways.listed.url, '/api/users', {
      headers: { origin: 'http://localhost:5173' },
    });
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(res.headers['access-control-expose-headers']).toMatch(/x-request-id/i);
    expect(res.headers.vary).toMatch(/origin/i);
  });

  it('gives an unlisted origin no CORS headers, on a preflight or a request', async () => {
    const pre = await preflight(gateways.listed, 'https://evil.example.com');
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const res = await send(gateways.listed.url, '/api/users', {
      headers: { origin: 'https://evil.example.com' },
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('allows any origin with * but never with credentials', async () => {
    const res = await preflight(gateways.any, 'https://whoever.example');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('names the methods, request headers and max age a preflight may use, and credentials only when set', async () => {
    const res = await preflight(gateways.listed, 'http://localhost:5173');
    expect(res.headers['access-control-allow-methods']).toBe('GET, HEAD, POST, PUT, PATCH, DELETE');
    expect(res.headers['access-control-allow-headers']).toBe('Authorization, Content-Type, X-Request-Id');
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers['content-length']).toBe('0');
    const any = await send(gateways.any.url, '/api/users', { headers: { origin: 'https://whoever.example' } });
    expect(any.headers['access-control-allow-origin']).toBe('*');
    expect(any.headers['access-control-expose-headers']).toBe('X-Request-Id, Retry-After, X-Total-Count, Link');
    expect(any.headers['access-control-allow-credentials']).toBeUndefined();
    expect(any.headers.vary ?? '').not.toMatch(/origin/i);
  });

  it('varies on Origin for every response when only some origins are allowed', async () => {
    const res = await send(gateways.listed.url, '/api/users');
    expect(res.headers.vary).toMatch(/origin/i);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('hands an OPTIONS request that is not a preflight on to its service, marked for a listed origin', async () => {
    const res = await send(gateways.listed.url, '/api/users', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com' },
    });
    expect(res.status).toBe(200);
    expect(upstream.received).toHaveLength(1);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
  });

  it('also marks gateway answers such as errors', async () => {
    const res = await send(gateways.listed.url, '/api/nothing', {
      headers: { origin: 'https://app.example.com' },
    });
    expect(res.status).toBe(404);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
  });
});
