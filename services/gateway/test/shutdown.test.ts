import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { createLogger } from '@mpb/logger';
import { createMetrics, listen } from '@mpb/service-kit';
import { gatewaySettings, loadGatewayConfig } from '../src/config';
import { createGatewayApp } from '../src/http/app';
import { UPSTREAM_NAMES } from '../src/http/routes';
import { closeUpstreams, createUpstreams } from '../src/http/upstreams';
import { redisClient } from './support/gateway';

let redis: Redis;
let slow: http.Server;
let slowUrl: string;

beforeAll(async () => {
  redis = redisClient();
  slow = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.end('{"done":true}'), 400));
  });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
});

afterAll(async () => {
  slow.closeAllConnections();
  await new Promise<void>((resolve) => slow.close(() => resolve()));
  await redis.quit();
});

describe('shutdown', () => {
  it('finishes an in-flight request, then closes even though the client keeps connections alive', async () => {
    const upstreams = createUpstreams(Object.fromEntries(UPSTREAM_NAMES.map((n) => [n, slowUrl])), {
      maxSockets: 4,
    });
    const app = createGatewayApp({
      logger: createLogger({ service: 'gateway-test', level: 'silent' }),
      metrics: createMetrics('gateway'),
      redis,
      verifier: { verify: async () => ({ id: 1 }) },
      upstreams,
      settings: gatewaySettings(loadGatewayConfig({})),
    });
    const handle = await listen(app, 0);
    const agent = new http.Agent({ keepAlive: true });
    try {
      const reply = new Promise<{ status: number; connection?: string; body: string }>((resolve, reject) => {
        http
          .get(`http://127.0.0.1:${handle.port}/api/users/1`, { agent }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }),
            );
          })
          .on('error', reject);
      });
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      await handle.close();
      const closedAfter = Date.now() - started;
      expect(await reply).toEqual({ status: 200, connection: 'close', body: '{"done":true}' });
      expect(closedAfter).toBeLessThan(1500);
    } finally {
      agent.destroy();
      closeUpstreams(upstreams);
    }
  });
});
