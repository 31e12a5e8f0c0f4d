import { createLogger, errorFields } from '@mpb/logger';
import {
  createMetrics,
  followSessionRevocations,
  jwksFromAuth,
  listen,
  openServiceDatabase,
  outboxLimitsOf,
  registerShutdown,
  startTracing,
  kafkaClusterOf,
} from '@mpb/service-kit';
import { migrations } from '../migrations';
import { loadCommentsConfigOrExit } from './config';
import { createCommentsContext } from './context';
import { SERVICE_NAME } from './domain/comments-service';
import { startEventPipeline } from './events/pipeline';
import { postEventsHandler } from './events/post-events';
import { GrpcPostDirectory } from './grpc/post-directory';
import { createGrpcServer } from './grpc/server';
import { createHttpApp } from './http/app';
import { readinessChecks } from './readiness';

/** The composition root: config once, every client built here, shut down in reverse order. */
async function main(): Promise<void> {
  const startedAt = new Date();
  const config = loadCommentsConfigOrExit(SERVICE_NAME);
  const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
  startTracing(SERVICE_NAME, config);
  try {
    const metrics = createMetrics(SERVICE_NAME);

    const knex = await openServiceDatabase({
      settings: config,
      migrations,
      logger,
    });

    // Revoked sessions from auth, held in memory: a token check never waits on the network.
    const revocations = await followSessionRevocations(config.AUTH_GRPC_ADDR, logger);

    // auth and posts may start later: keys are fetched on the first token, posts asked per request.
    const posts = new GrpcPostDirectory(config.POSTS_GRPC_ADDR, config.POSTS_DEADLINE_MS);
    const context = createCommentsContext({
      settings: config,
      knex,
      revocations,
      logger,
      posts,
      loadKeys: jwksFromAuth(config.AUTH_URL),
    });
    const events = await startEventPipeline({
      clientId: config.KAFKA_CLIENT_ID,
      brokers: config.KAFKA_BROKERS,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      cluster: kafkaClusterOf(config),
      groupId: config.KAFKA_GROUP_ID,
      ...outboxLimitsOf(config),
      knex,
      logger,
      metrics,
    });
    await events.startConsumer(
      postEventsHandler({ comments: context.comments, consumer: config.KAFKA_GROUP_ID, logger }),
    );

    const app = createHttpApp({
      ...context,
      logger,
      metrics,
      readiness: readinessChecks({
        knex,
        events,
        outboxMaxLagSeconds: config.OUTBOX_MAX_LAG_SECONDS,
        consumerMaxStallSeconds: config.CONSUMER_MAX_STALL_SECONDS,
        startedAt,
      }),
    });
    const http = await listen(app, config.HTTP_PORT, config.HOST);
    const grpc = createGrpcServer({ logger, metrics, comments: context.comments });
    const grpcPort = await grpc.listen(config.GRPC_PORT, config.HOST);

    registerShutdown({
      logger,
      timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      drainMs: config.SHUTDOWN_DRAIN_MS,
      steps: [
        { name: 'http', run: () => http.close() },
        { name: 'grpc', run: () => grpc.close() },
        { name: 'post-events consumer', run: () => events.consumer?.stop() },
        { name: 'ledger pruner', run: () => events.pruner.stop() },
        { name: 'outbox relay', run: () => events.relay.stop() },
        { name: 'kafka producer', run: () => events.producer.disconnect() },
        { name: 'posts client', run: () => posts.close() },
        { name: 'session revocations', run: () => revocations.stop() },
        { name: 'database', run: () => knex.destroy() },
      ],
    });
    logger.info(
      { http_port: http.port, grpc_port: grpcPort, group_id: config.KAFKA_GROUP_ID },
      'comments started',
    );
  } catch (err) {
    logger.fatal(errorFields(err, true), 'comments failed to start');
    process.exit(1);
  }
}

void main();
