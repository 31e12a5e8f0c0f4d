import { createLogger, errorFields } from '@mpb/logger';
import {
  createMetrics,
  followSessionRevocations,
  jwksFromAuth,
  listen,
  openServiceDatabase,
  registerShutdown,
  startTracing,
  kafkaClusterOf,
} from '@mpb/service-kit';
import { migrations } from '../migrations';
import { loadAttachmentsConfigOrExit } from './config';
import { createAttachmentsContext } from './context';
import { SERVICE_NAME } from './domain/attachments-service';
import { startParentEventsConsumer, type ParentEventsConsumer } from './events/consumer';
import { parentEventsHandler } from './events/parent-events';
import { GrpcOwnerDirectory } from './grpc/owner-directory';
import { createGrpcServer } from './grpc/server';
import { createHttpApp } from './http/app';
import { readinessChecks } from './readiness';
import { Reconciler } from './reconciler';
import { createS3Client, S3ObjectStore } from './storage/s3-object-store';

/** The composition root: config once, every client built here, shut down in reverse order. */
async function main(): Promise<void> {
  const startedAt = new Date();
  const config = loadAttachmentsConfigOrExit(SERVICE_NAME);
  const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
  startTracing(SERVICE_NAME, config);
  try {
    const metrics = createMetrics(SERVICE_NAME);
    const knex = await openServiceDatabase({ settings: config, migrations, logger });

    // Revoked sessions from auth, held in memory: a token check never waits on the network.
    const revocations = await followSessionRevocations(config.AUTH_GRPC_ADDR, logger);

    const s3 = createS3Client(config);
    const objects = new S3ObjectStore(s3, config.S3_BUCKET, config.UPLOAD_SPOOL_DIR);
    // auth, posts and comments may start later: keys are fetched on the first token, owners asked per upload.
    const owners = new GrpcOwnerDirectory({
      postsAddress: config.POSTS_GRPC_ADDR,
      commentsAddress: config.COMMENTS_GRPC_ADDR,
      deadlineMs: config.OWNER_DEADLINE_MS,
    });
    const context = createAttachmentsContext({
      settings: config,
      knex,
      revocations,
      logger,
      objects,
      owners,
      loadKeys: jwksFromAuth(config.AUTH_URL),
    });
    const reconciler = new Reconciler({
      attachments: context.attachments,
      logger,
      intervalSeconds: config.RECONCILE_INTERVAL_SECONDS,
      graceSeconds: config.RECONCILE_GRACE_SECONDS,
    });

    // Filled once the consumer starts, after the probes and shutdown steps that refer to it exist.
    const events: { current?: ParentEventsConsumer } = {};
    const app = createHttpApp({
      ...context,
      logger,
      metrics,
      readiness: readinessChecks({
        knex,
        kafka: {
          ping: (ms) =>
            events.current ? events.current.kafka.ping(ms) : Promise.reject(new Error('not started')),
        },
        storage: objects,
        get consumer() {
          return events.current?.consumer;
        },
        consumerMaxStallSeconds: config.CONSUMER_MAX_STALL_SECONDS,
        startedAt,
      }),
    });
    const http = await listen(app, config.HTTP_PORT, config.HOST);
    const grpc = createGrpcServer({ logger, metrics });
    const grpcPort = await grpc.listen(config.GRPC_PORT, config.HOST);

    // Registered before the consumer starts, so a SIGTERM during start-up still exits cleanly.
    registerShutdown({
      logger,
      timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      drainMs: config.SHUTDOWN_DRAIN_MS,
      steps: [
        { name: 'http', run: () => http.close() },
        { name: 'grpc', run: () => grpc.close() },
        { name: 'events consumer', run: () => events.current?.stop() },
        { name: 'reconciler', run: () => reconciler.stop() },
        { name: 'owner clients', run: () => owners.close() },
        { name: 's3', run: () => s3.destroy() },
        { name: 'session revocations', run: () => revocations.stop() },
        { name: 'database', run: () => knex.destroy() },
      ],
    });

    events.current = await startParentEventsConsumer({
      knex,
      retentionMs: config.LEDGER_RETENTION_HOURS * 3600 * 1000,
      clientId: config.KAFKA_CLIENT_ID,
      brokers: config.KAFKA_BROKERS,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      cluster: kafkaClusterOf(config),
      groupId: config.KAFKA_GROUP_ID,
      logger,
      metrics,
      handle: parentEventsHandler({
        attachments: context.attachments,
        consumer: config.KAFKA_GROUP_ID,
        logger,
      }),
    });
    reconciler.start();
    logger.info(
      {
        http_port: http.port,
        grpc_port: grpcPort,
        group_id: config.KAFKA_GROUP_ID,
        bucket: config.S3_BUCKET,
      },
      'attachments started',
    );
  } catch (err) {
    logger.fatal(errorFields(err, true), 'attachments failed to start');
    process.exit(1);
  }
}

void main();
