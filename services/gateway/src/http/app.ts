import type { Express, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { Counter, Histogram } from 'prom-client';
import { notFound, payloadTooLarge, rateLimited, unavailable } from '@mpb/errors';
import type { Logger } from '@mpb/logger';
import { createHttpApp, type ServiceMetrics, type TokenVerifier } from '@mpb/service-kit';
import { PerClientCount, Slots } from './admission';
import {
  assertDeclaredLengthWithin,
  BODY_TOO_LARGE,
  BodyError,
  hasBody,
  lingerThenClose,
  readBody,
  type BodyPace,
} from './body-limit';
import { canonicalPath } from './canonical-path';
import { cors, type CorsOptions } from './cors';
import { docsRoutes } from './docs';
import { health } from './health';
import { prepareUpstreamHeaders, verifyAuthorization } from './identity';
import { assertSafeFraming, createUpstreamProxy, sendBodyTimeout, type ProxyHandler } from './proxy';
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
  /** Longest a request waits for a free connection to its upstream before a 503. */
  upstreamQueueTimeoutMs: number;
  healthTimeoutMs: number;
  healthCacheMs: number;
  bodyLimits: Record<BodyLimitPolicy, number>;
  bodyPace: BodyPace;
  /** Per client (req.ip): requests in flight, and those of them whose body is still arriving. */
  clientLimits: { requests: number; bodies: number };
  /** JSON bodies the gateway holds in memory at once, all requests together. */
  bufferedBodiesMaxBytes: number;
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
  /** Connections per upstream (UPSTREAM_MAX_SOCKETS): the requests in flight to it at once. Default 256. */
  upstreamMaxSockets?: number;
  settings: GatewaySettings;
  routes?: readonly RouteRow[];
}

/** Whether an address is a proxy the app trusts (Express `trust proxy`), as the socket's peer. */
export function trustedProxyTest(app: Express): (address: string) => boolean {
  const trust = app.get('trust proxy fn') as (address: string, hop: number) => boolean;
  return (address) => trust(address, 0);
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

  const maxSockets = deps.upstreamMaxSockets ?? 256;
  const proxies = new Map<UpstreamName, ProxyHandler>(
    routed.map((upstream) => [
      upstream.name,
      createUpstreamProxy({
        upstream,
        timeoutMs: s.upstreamTimeoutMs,
        duration,
        retries,
        slots: new Slots(maxSockets, s.upstreamQueueTimeoutMs, maxSockets * 4),
        pace: s.bodyPace,
      }),
    ]),
  );
  const limiter = createRateLimiter({
    redis: deps.redis,
    keyPrefix: s.rateLimitKeyPrefix,
    logger,
    decisions,
  });
  const trustForwarded = s.trustProxy !== false;
  const requestsInFlight = new PerClientCount(s.clientLimits.requests);
  const bodiesInFlight = new PerClientCount(s.clientLimits.bodies);
  let bufferedBytes = 0;
  /** Reserves room for a body of at most `bytes` until the response closes, or refuses with a 503. */
  const reserveBuffer = (bytes: number, res: Response) => {
    if (bufferedBytes + bytes > s.bufferedBodiesMaxBytes)
      throw unavailable('gateway busy, try again later', { retryAfter: 1 });
    bufferedBytes += bytes;
    res.once('close', () => {
      bufferedBytes -= bytes;
    });
  };

  /**
   * Takes one of the client's slots in `count`, or refuses the request with a 429. The slot goes
   * back when the returned function is called or the response closes, whichever comes first.
   */
  const hold = (count: PerClientCount, client: string, res: Response, what: string) => {
    if (!count.tryAcquire(client))
      throw rateLimited(`too many ${what} in flight from this client, try again later`, 1);
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      count.release(client);
    };
    res.once('close', release);
    return release;
  };

  /** The whole proxy path: match, refuse early what must be refused, forward. */
  const gateway: RequestHandler = async (req, res, next) => {
    const route = table.match(req.path);
    if (!route) {
      next();
      return;
    }
    const bodyLimitBytes = s.bodyLimits[route.bodyLimit];
    const client = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const withBody = hasBody(req) && !req.complete;
    let bodyArrived: (() => void) | undefined;
    try {
      hold(requestsInFlight, client, res, 'requests');
      if (withBody) {
        bodyArrived = hold(bodiesInFlight, client, res, 'request bodies');
        req.once('end', bodyArrived);
      }
      assertDeclaredLengthWithin(req, bodyLimitBytes);
      assertSafeFraming(req);
      prepareUpstreamHeaders(req.headers, res.locals.requestId, trustForwarded);
      if (route.rateLimit) await limiter.hit(route.name, client, s.rateLimits[route.rateLimit]);
      if (route.verifyToken && req.headers.authorization) {
        await verifyAuthorization(deps.verifier, req.headers.authorization);
      }
    } catch (err) {
      if (hasBody(req)) lingerThenClose(req, res);
      throw err;
    }
    const proxy = proxies.get(route.upstream);
    if (!proxy) throw new Error(`no proxy for upstream ${route.upstream}`);
    // A JSON body is read whole before an upstream connection is taken: a client trickling it
    // holds a socket of the gateway, never one of the service's. Uploads are streamed.
    let body: Buffer | undefined;
    if (withBody && route.bodyLimit !== 'upload') {
      const declared = Number(req.headers['content-length']);
      try {
        reserveBuffer(Number.isFinite(declared) ? declared : bodyLimitBytes, res);
      } catch (err) {
        lingerThenClose(req, res);
        throw err;
      }
      try {
        body = await readBody(req, bodyLimitBytes, s.bodyPace);
      } catch (err) {
        if (!(err instanceof BodyError)) throw err;
        if (err.kind === 'aborted') return;
        if (err.kind === 'timed-out') {
          sendBodyTimeout(res);
          return;
        }
        lingerThenClose(req, res);
        throw payloadTooLarge(BODY_TOO_LARGE);
      } finally {
        bodyArrived?.();
      }
    }
    proxy(req, res, next, { route: route.name, bodyLimitBytes, body });
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
    before: [canonicalPath, securityHeaders, cors(s.cors)],
    routes: (app) => {
      app.use(docsRoutes());
      app.get(
        '/health',
        health({
          upstreams: routed,
          redisPing: () => deps.redis.ping(),
          timeoutMs: s.healthTimeoutMs,
          cacheMs: s.healthCacheMs,
        }),
      );
      app.use(gateway);
      app.use((_req, _res, next) => next(notFound('route not found')));
    },
  });
}
