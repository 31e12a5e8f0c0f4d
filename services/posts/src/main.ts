import { createLogger, errorFields } from '@mpb/logger';
import {
  createMetrics,
  followSessionRevocations,
  outboxLimitsOf,
  listen,
  openServiceDatabase,
  registerShutdown,
  startTracing,
  kafkaClusterOf,
} from '@mpb/service-kit';
import { migrations } from '../migrations';
import { loadPostsConfigOrExit } from './config';
import { createPostsContext } from './context';
import { SERVICE_NAME } from './domain/posts-service';
import { startEventPipeline } from './events/pipeline';
import { createMetricsClient } from './grpc/metrics-client';
import { createGrpcServer } from './grpc/server';
import { createHttpApp } from './http/app';
import { readinessChecks } from './readiness';

/** The composition root: config once, every client built here, shut down in reverse order. */
async function main(): Promise<void> {
  const config = loadPostsConfigOrExit(SERVICE_NAME);
  const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
  startTracing(SERVICE_NAME, config);
  try {
    const metrics = createMetrics(SERVICE_NAME);

    const knex = await openServiceDatabase({
      settings: config,
      migrations,
      logger,
      pool: { applicationName: SERVICE_NAME },
    });

    // Revoked sessions from auth, held in memory: a token check never waits on the network.
    const revocations = await followSessionRevocations(config.AUTH_GRPC_ADDR, logger);

    // Metrics may not be running (or deployed) yet: the client connects lazily, reads fall back.
    const metricsService = createMetricsClient({
      address: config.METRICS_GRPC_ADDR,
      deadlineMs: config.METRICS_DEADLINE_MS,
    });
    const context = createPostsContext({
      settings: config,
      knex,
      revocations,
      metricsService,
      logger,
      metrics,
    });
    const events = await startEventPipeline({
      clientId: config.KAFKA_CLIENT_ID,
      brokers: config.KAFKA_BROKERS,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      cluster: kafkaClusterOf(config),
      ...outboxLimitsOf(config),
      knex,
      logger,
      metrics,
    });

    const app = createHttpApp({
      ...context,
      logger,
      metrics,
      readiness: readinessChecks({ knex, events, outboxMaxLagSeconds: config.OUTBOX_MAX_LAG_SECONDS }),
      gatewayTrustProxy: config.GATEWAY_TRUST_PROXY,
    });
    const http = await listen(app, config.HTTP_PORT, config.HOST);
    const grpc = createGrpcServer({ logger, metrics, posts: context.posts });
    const grpcPort = await grpc.listen(config.GRPC_PORT, config.HOST);

    registerShutdown({
      logger,
      timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      drainMs: config.SHUTDOWN_DRAIN_MS,
      steps: [
        { name: 'http', run: () => http.close() },
        { name: 'grpc', run: () => grpc.close() },
        { name: 'outbox relay', run: () => events.relay.stop() },
        { name: 'kafka producer', run: () => events.producer.disconnect() },
        { name: 'metrics client', run: () => metricsService.close() },
        { name: 'session revocations', run: () => revocations.stop() },
        { name: 'database', run: () => knex.destroy() },
      ],
    });
    logger.info(
      { http_port: http.port, grpc_port: grpcPort, metrics_grpc: config.METRICS_GRPC_ADDR },
      'posts started',
    );
  } catch (err) {
    logger.fatal(errorFields(err, true), 'posts failed to start');
    process.exit(1);
  }
}

void main();
