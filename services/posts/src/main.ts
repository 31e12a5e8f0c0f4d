import { Topics } from '@mpb/contracts';
import { defineService, runService } from '@mpb/service-kit';
import { migrations } from '../migrations';
import { loadPostsConfig } from './config';
import { createPostsContext } from './context';
import { SERVICE_NAME } from './domain/posts-service';
import { createMetricsClient } from './grpc/metrics-client';
import { createGrpcServer } from './grpc/server';
import { createHttpApp } from './http/app';

/** What posts is made of; `runService` (below) and the test harness build it from this. */
export const postsService = defineService({
  name: SERVICE_NAME,
  config: loadPostsConfig,
  async build(kit) {
    const { config, logger, metrics } = kit;
    const knex = await kit.database({ migrations });
    // Revoked sessions from auth, held in memory: a token check never waits on the network.
    const revocations = await kit.revocations();
    // Metrics may not be running (or deployed) yet: the client connects lazily, reads fall back.
    const metricsService = kit.closes(
      'metrics client',
      createMetricsClient({ address: config.METRICS_GRPC_ADDR, deadlineMs: config.METRICS_DEADLINE_MS }),
      (client) => client.close(),
    );
    const context = createPostsContext({
      settings: config,
      knex,
      revocations,
      metricsService,
      logger,
      metrics,
      loadKeys: kit.jwks(),
    });
    const events = await kit.outbox({ knex, topics: [Topics.posts] });
    return {
      context,
      knex,
      events,
      // Metrics is deliberately not a readiness check: posts are served without it (last known counts).
      http: createHttpApp({
        ...context,
        logger,
        metrics,
        readiness: kit.readiness(),
        gatewayTrustProxy: config.GATEWAY_TRUST_PROXY,
      }),
      grpc: createGrpcServer({ logger, metrics, posts: context.posts }),
      about: { metrics_grpc: config.METRICS_GRPC_ADDR },
    };
  },
});

if (require.main === module) void runService(postsService);
