import { Redis } from 'ioredis';
import { createLogger, errorFields } from '@mpb/logger';
import {
  createMetrics,
  createMetricsApp,
  createTokenVerifier,
  followSessionRevocations,
  jwksFromAuth,
  listen,
  registerShutdown,
  startTracing,
} from '@mpb/service-kit';
import {
  gatewaySettings,
  loadGatewayConfig,
  serverGuardSettings,
  upstreamUrls,
  type GatewayConfig,
} from './config';
import { createGatewayApp, trustedProxyTest } from './http/app';
import { compileRoutes, ROUTES } from './http/routes';
import { guardServer } from './http/server-guard';
import { closeUpstreams, createUpstreams } from './http/upstreams';

async function main(config: GatewayConfig): Promise<void> {
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  startTracing('gateway', config);
  const metrics = createMetrics('gateway');

  // Bounded calls: a command waits at most REDIS_COMMAND_TIMEOUT_MS, queued while reconnecting
  // included, so Redis trouble turns into a fail-open rate limit or a 503, never a hung request.
  const redis = new Redis(config.REDIS_URL, {
    commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
  });
  let lastRedisWarning = 0;
  redis.on('error', (err) => {
    if (Date.now() - lastRedisWarning < 10_000) return;
    lastRedisWarning = Date.now();
    logger.warn(errorFields(err), 'redis connection error');
  });

  // Revoked sessions from auth, held in memory: no Redis or auth round trip per signed-in request.
  const revocations = await followSessionRevocations(config.AUTH_GRPC_ADDR, logger);
  const verifier = createTokenVerifier({
    loadKeys: jwksFromAuth(config.AUTH_URL, config.JWKS_TIMEOUT_MS),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    isSessionRevoked: (sessionId) => revocations.isRevoked(sessionId),
  });

  const urls = upstreamUrls(config);
  const routed = compileRoutes(ROUTES).upstreams();
  const upstreams = createUpstreams(Object.fromEntries(routed.map((name) => [name, urls[name]])), {
    maxSockets: config.UPSTREAM_MAX_SOCKETS,
  });

  const app = createGatewayApp({
    logger,
    metrics,
    redis,
    verifier,
    upstreams,
    upstreamMaxSockets: config.UPSTREAM_MAX_SOCKETS,
    settings: gatewaySettings(config),
  });
  const http = await listen(app, config.HTTP_PORT, config.HOST);
  guardServer(http.server, { ...serverGuardSettings(config), isTrustedProxy: trustedProxyTest(app) });
  const metricsHttp = await listen(createMetricsApp(metrics), config.METRICS_PORT, config.HOST);
  logger.info(
    {
      port: http.port,
      metrics_port: metricsHttp.port,
      upstreams: Object.fromEntries(routed.map((name) => [name, urls[name]])),
    },
    'gateway listening',
  );

  registerShutdown({
    logger,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    drainMs: config.SHUTDOWN_DRAIN_MS,
    steps: [
      { name: 'http', run: () => http.close() },
      { name: 'metrics http', run: () => metricsHttp.close() },
      { name: 'upstreams', run: () => closeUpstreams(upstreams) },
      { name: 'session revocations', run: () => revocations.stop() },
      { name: 'redis', run: () => redis.quit() },
    ],
  });
}

let config: GatewayConfig;
try {
  config = loadGatewayConfig(process.env);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

main(config).catch((err: unknown) => {
  process.stderr.write(
    `gateway failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
