import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createLogger } from '@mpb/logger';
import {
  createMetrics,
  createMetricsApp,
  createTokenVerifier,
  jwksFromAuth,
  listen,
  type SessionRevocations,
  type TokenVerifier,
} from '@mpb/service-kit';
import { gatewaySettings, loadGatewayConfig, serverGuardSettings } from '../../src/config';
import { createGatewayApp, trustedProxyTest, type GatewaySettings } from '../../src/http/app';
import { UPSTREAM_NAMES, type RouteRow, type UpstreamName } from '../../src/http/routes';
import { guardServer } from '../../src/http/server-guard';
import { closeUpstreams, createUpstreams } from '../../src/http/upstreams';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function redisClient(): Redis {
  return new Redis(REDIS_URL, { commandTimeout: 1000, maxRetriesPerRequest: 1 });
}

/**
 * A client for a Redis that is down, after its one failed attempt: every command fails at once.
 * It holds nothing open; calling disconnect() on it would only start a 2 s timer inside ioredis.
 */
export async function deadRedis(port: number): Promise<Redis> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  await new Promise((resolve) => redis.once('end', resolve));
  return redis;
}

export interface GatewayOptions {
  upstreams: Partial<Record<UpstreamName, string>>;
  /** auth's base URL: the verifier fetches its keys where every service does (jwksFromAuth). */
  jwksUrl: string;
  redis: Redis;
  /** The revoked sessions (a follower of a feed stand-in); none revoked by default. */
  revocations?: Pick<SessionRevocations, 'isRevoked'>;
  env?: Record<string, string>;
  settings?: Partial<GatewaySettings>;
  verifier?: TokenVerifier;
  routes?: readonly RouteRow[];
}

export interface RunningGateway {
  url: string;
  /** The metrics port main.ts opens beside the public one. */
  metricsUrl: string;
  settings: GatewaySettings;
  close(): Promise<void>;
}

/**
 * A gateway app built as main.ts builds it (config defaults from the real schema), listening on a
 * free port. Every gateway gets its own rate-limit key prefix unless a test shares one on purpose.
 */
export async function startGateway(o: GatewayOptions): Promise<RunningGateway> {
  const config = loadGatewayConfig({
    UPSTREAM_TIMEOUT_MS: '500',
    HEALTH_TIMEOUT_MS: '500',
    UPSTREAM_MAX_SOCKETS: '32',
    ...o.env,
  });
  const settings: GatewaySettings = {
    ...gatewaySettings(config),
    rateLimitKeyPrefix: `test:gateway:${randomUUID()}:`,
    ...o.settings,
  };
  const verifier =
    o.verifier ??
    createTokenVerifier({
      loadKeys: jwksFromAuth(o.jwksUrl, 500),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      isSessionRevoked: (sessionId) => o.revocations?.isRevoked(sessionId) ?? false,
    });
  // Rows for services a test does not name go to the same stand-in as auth.
  const fallback = Object.values(o.upstreams)[0];
  const all = Object.fromEntries(UPSTREAM_NAMES.map((name) => [name, fallback]));
  const upstreams = createUpstreams({ ...all, ...o.upstreams }, { maxSockets: config.UPSTREAM_MAX_SOCKETS });
  const metrics = createMetrics('gateway');
  const app = createGatewayApp({
    logger: createLogger({ service: 'gateway-test', level: 'silent' }),
    metrics,
    redis: o.redis,
    verifier,
    upstreams,
    upstreamMaxSockets: config.UPSTREAM_MAX_SOCKETS,
    settings,
    routes: o.routes,
  });
  const handle = await listen(app, 0);
  guardServer(handle.server, { ...serverGuardSettings(config), isTrustedProxy: trustedProxyTest(app) });
  const metricsHandle = await listen(createMetricsApp(metrics), 0);
  return {
    url: `http://127.0.0.1:${handle.port}`,
    metricsUrl: `http://127.0.0.1:${metricsHandle.port}`,
    settings,
    close: async () => {
      handle.server.closeAllConnections();
      await handle.close();
      await metricsHandle.close();
      closeUpstreams(upstreams);
    },
  };
}
