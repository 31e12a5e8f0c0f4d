import type { Express, RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { Counter, Histogram } from 'prom-client';
import { notFound } from '@mpb/errors';
import type { Logger } from '@mpb/logger';
import { createHttpApp, type ServiceMetrics, type TokenVerifier } from '@mpb/service-kit';
import { assertDeclaredLengthWithin, hasBody, lingerThenClose } from './body-limit';
import { cors, type CorsOptions } from './cors';
import { docsRoutes } from './docs';
import { health } from './health';
import { prepareUpstreamHeaders, verifyAuthorization } from './identity';
import { assertSafeFraming, createUpstreamProxy, type ProxyHandler } from './proxy';
import { createRateLimiter, type RateLimit } from './rate-limit';
import {
  compileRoutes,
  ROUTES,
  type BodyLimitPolicy,
  type RateLimitPolicy,
  type RouteRow,
  type UpstreamName,
} from './routes';
import { securityHeaders } from './security-headers';
import type { Upstream } from './upstreams';

export interface GatewaySettings {
  upstreamTimeoutMs: number;
  healthTimeoutMs: number;
  bodyLimits: Record<BodyLimitPolicy, number>;
  rateLimits: Record<RateLimitPolicy, RateLimit>;
  /** Prefix of the rate-limit keys in Redis (tests use one per test). */
  rateLimitKeyPrefix: string;
  trustProxy: false | number | string;
  cors: CorsOptions;
}

export interface GatewayDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  redis: Redis;
  verifier: TokenVerifier;
  /** Must hold every upstream a route row names. */
  upstreams: Map<UpstreamName, Upstream>;
  settings: GatewaySettings;
  routes?: readonly RouteRow[];
}

export function createGatewayApp(deps: GatewayDeps): Express {
  const { settings: s, logger, metrics } = deps;
  const table = compileRoutes(deps.routes ?? ROUTES);
  const routed = table.upstreams().map((name) => {
    const upstream = deps.upstreams.get(name);
    if (!upstream) throw new Error(`no address configured for upstream ${name}`);
    return upstream;
  });

  const duration = new Histogram({
    name: 'gateway_upstream_request_duration_seconds',
    help: 'Proxied requests by upstream, route row and status',
    labelNames: ['upstream', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metrics.registry],
  });
  const retries = new Counter({
    name: 'gateway_upstream_retries_total',
    help: 'Requests sent again on a fresh connection after a service closed a kept-alive one under them',
    labelNames: ['upstream'] as const,
    registers: [metrics.registry],
  });
  const decisions = new Counter({
    name: 'gateway_rate_limit_decisions_total',
    help: 'Rate-limit decisions by route row: allowed, limited, fail_open (store unavailable)',
    labelNames: ['route', 'outcome'] as const,
    registers: [metrics.registry],
  });

  const proxies = new Map<UpstreamName, ProxyHandler>(
    routed.map((upstream) => [
      upstream.name,
      createUpstreamProxy({ upstream, timeoutMs: s.upstreamTimeoutMs, duration, retries }),
    ]),
  );
  const limiter = createRateLimiter({
    redis: deps.redis,
    keyPrefix: s.rateLimitKeyPrefix,
    logger,
    decisions,
  });
  const trustForwarded = s.trustProxy !== false;

  /** The whole proxy path: match, refuse early what must be refused, forward. No body parsing. */
  const gateway: RequestHandler = async (req, res, next) => {
    const route = table.match(req.path);
    if (!route) {
      next();
      return;
    }
    const bodyLimitBytes = s.bodyLimits[route.bodyLimit];
    try {
      assertDeclaredLengthWithin(req, bodyLimitBytes);
      assertSafeFraming(req);
      prepareUpstreamHeaders(req.headers, res.locals.requestId, trustForwarded);
      if (route.rateLimit) {
        const client = req.ip ?? req.socket.remoteAddress ?? 'unknown';
        await limiter.hit(route.name, client, s.rateLimits[route.rateLimit]);
      }
      if (route.verifyToken && req.headers.authorization) {
        await verifyAuthorization(deps.verifier, req.headers.authorization);
      }
    } catch (err) {
      if (hasBody(req)) lingerThenClose(req, res);
      throw err;
    }
    const proxy = proxies.get(route.upstream);
    if (!proxy) throw new Error(`no proxy for upstream ${route.upstream}`);
    proxy(req, res, next, { route: route.name, bodyLimitBytes });
  };

  return createHttpApp({
    service: 'gateway',
    logger,
    metrics,
    readiness: { redis: () => deps.redis.ping() },
    parseJson: false,
    // The public door does not publish process details: main.ts serves them on METRICS_PORT.
    serveMetrics: false,
    trustProxy: s.trustProxy,
    before: [securityHeaders, cors(s.cors)],
    routes: (app) => {
      app.use(docsRoutes());
      app.get(
        '/health',
        health({ upstreams: routed, redisPing: () => deps.redis.ping(), timeoutMs: s.healthTimeoutMs }),
      );
      app.use(gateway);
      app.use((_req, _res, next) => next(notFound('route not found')));
    },
  });
}
