import { createLogger, errorFields } from '@mpb/logger';
import {
  createMetrics,
  outboxLimitsOf,
  listen,
  openServiceDatabase,
  registerShutdown,
  startTracing,
  kafkaClusterOf,
} from '@mpb/service-kit';
import { migrations } from '../migrations';
import { loadAuthConfigOrExit } from './config';
import { createAuthContext } from './context';
import { SERVICE_NAME } from './domain/auth-service';
import { startEventPipeline } from './events/pipeline';
import { createGrpcServer } from './grpc/server';
import { createHttpApp } from './http/app';
import { readinessChecks } from './readiness';

/** The composition root: config once, every client built here, shut down in reverse order. */
async function main(): Promise<void> {
  const config = loadAuthConfigOrExit(SERVICE_NAME);
  const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
  startTracing(SERVICE_NAME, config);
  try {
    const metrics = createMetrics(SERVICE_NAME);

    const knex = await openServiceDatabase({
      settings: config,
      migrations,
      logger,
    });

    const context = await createAuthContext({ settings: config, knex, logger });
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
    });
    const http = await listen(app, config.HTTP_PORT, config.HOST);
    const grpc = createGrpcServer({ logger, metrics, auth: context.auth });
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
        { name: 'database', run: () => knex.destroy() },
      ],
    });
    logger.info(
      { http_port: http.port, grpc_port: grpcPort, kid: context.keyring.signingKey().kid },
      'auth started',
    );
  } catch (err) {
    logger.fatal(errorFields(err, true), 'auth failed to start');
    process.exit(1);
  }
}

void main();
