import { createTokenVerifier, defineService, runService } from '@mpb/service-kit';
import { gatewaySettings, loadGatewayConfig, serverGuardSettings, upstreamUrls } from './config';
import { createGatewayApp, trustedProxyTest } from './http/app';
import { compileRoutes, ROUTES } from './http/routes';
import { guardServer } from './http/server-guard';
import { closeUpstreams, createUpstreams } from './http/upstreams';

/** What the gateway is made of; `runService` (below) builds it, listens and serves /metrics on METRICS_PORT. */
export const gatewayService = defineService({
  name: 'gateway',
  config: loadGatewayConfig,
  async build(kit) {
    const { config, logger, metrics } = kit;
    // Every command bounded by REDIS_COMMAND_TIMEOUT_MS, queued while reconnecting included, so Redis
    // trouble turns into a fail-open rate limit or a 503, never a hung request.
    const redis = kit.redis();
    // Revoked sessions from auth, held in memory: no Redis or auth round trip per signed-in request.
    const revocations = await kit.revocations();
    const verifier = createTokenVerifier({
      loadKeys: kit.jwks(),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      isSessionRevoked: (sessionId) => revocations.isRevoked(sessionId),
    });
    const urls = upstreamUrls(config);
    const targets = Object.fromEntries(
      compileRoutes(ROUTES)
        .upstreams()
        .map((name) => [name, urls[name]]),
    );
    const upstreams = kit.closes(
      'upstreams',
      createUpstreams(targets, { maxSockets: config.UPSTREAM_MAX_SOCKETS }),
      closeUpstreams,
    );
    const app = createGatewayApp({
      logger,
      metrics,
      redis,
      verifier,
      upstreams,
      upstreamMaxSockets: config.UPSTREAM_MAX_SOCKETS,
      settings: gatewaySettings(config),
    });
    return {
      http: app,
      onListening: (server) =>
        guardServer(server, { ...serverGuardSettings(config), isTrustedProxy: trustedProxyTest(app) }),
      about: { upstreams: targets },
    };
  },
});

if (require.main === module) void runService(gatewayService);
