import { Redis } from 'ioredis';
import { createKafka, createKafkaMetrics, parseBrokers, type EventConsumer } from '@mpb/kafka';
import { createLogger, errorFields } from '@mpb/logger';
import {
  createMetrics,
  followSessionRevocations,
  listen,
  openServiceDatabase,
  registerShutdown,
  startTracing,
  type ShutdownStep,
  kafkaClusterOf,
} from '@mpb/service-kit';
import { migrations } from '../migrations';
import { loadMetricsConfigOrExit } from './config';
import {
  createApiContext,
  createCounterCache,
  createCounterFolder,
  resetOnStart,
  type ApiContext,
} from './context';
import { appliedOffsets, FOLD_WAIT_MS, foldBarrier } from './data/fold-barrier';
import { SERVICE_NAME } from './domain/metrics-service';
import { createCounterConsumer, createPostDeletionConsumer } from './events/consumers';
import { startMetricEventsProducer, type MetricEventsProducer } from './events/producer';
import { createPostDirectory } from './grpc/posts-directory';
import { createGrpcServer } from './grpc/server';
import { createHttpApp } from './http/app';
import { registerDriftGauges } from './drift';
import { readinessChecks } from './readiness';

/** Posts compared at each scrape for the Redis–PostgreSQL drift gauges. */
const DRIFT_SAMPLE_POSTS = 200;

/** How long SIGTERM waits for take-backs still being published. */
const TAKE_BACK_DRAIN_MS = 3000;

/**
 * The composition root: config once, every client built here, shut down in reverse order.
 * METRICS_ROLE picks what runs: `all` (default), `api` (HTTP + gRPC) or `consumer` (the two
 * consumers, with HTTP for probes and /metrics only), so the consumer can be scaled on its own.
 */
async function main(): Promise<void> {
  const startedAt = new Date();
  const config = loadMetricsConfigOrExit(SERVICE_NAME);
  const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
  startTracing(SERVICE_NAME, config);
  const runsApi = config.METRICS_ROLE !== 'consumer';
  const runsConsumers = config.METRICS_ROLE !== 'api';
  try {
    const metrics = createMetrics(SERVICE_NAME);

    const knex = await openServiceDatabase({
      settings: config,
      migrations,
      logger,
      pool: { applicationName: `${SERVICE_NAME}-${config.METRICS_ROLE}` },
    });

    const redis = new Redis(config.REDIS_URL, {
      maxRetriesPerRequest: 2,
      connectTimeout: 3000,
      // A request must not hang while Redis is unreachable: it fails with a 503 instead.
      commandTimeout: 2000,
      // Commands of concurrent requests issued in the same tick share one write to Redis.
      enableAutoPipelining: true,
    });
    redis.on('error', (err) => logger.warn(errorFields(err), 'redis connection error'));
    await redis.ping();

    const kafka = createKafka({
      clientId: config.KAFKA_CLIENT_ID,
      brokers: parseBrokers(config.KAFKA_BROKERS),
      logger,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      cluster: kafkaClusterOf(config),
    });
    const kafkaMetrics = createKafkaMetrics(metrics.registry);
    const cache = createCounterCache(redis, config);
    registerDriftGauges({ registry: metrics.registry, knex, cache, sampleSize: DRIFT_SAMPLE_POSTS });

    let api: (ApiContext & { events: MetricEventsProducer }) | undefined;
    const posts = runsApi
      ? createPostDirectory({
          address: config.POSTS_GRPC_ADDR,
          deadlineMs: config.POSTS_DEADLINE_MS,
          cacheTtlMs: config.POSTS_CACHE_TTL_MS,
        })
      : undefined;
    // Revoked sessions from auth, held in memory: a token check never waits on the network.
    const revocations = runsApi ? await followSessionRevocations(config.AUTH_GRPC_ADDR, logger) : undefined;
    if (runsApi) {
      const events = await startMetricEventsProducer({
        kafka,
        topic: config.METRICS_TOPIC,
        logger,
        metrics: kafkaMetrics,
      });
      api = {
        ...createApiContext({
          settings: config,
          knex,
          revocations: revocations!,
          cache,
          posts: posts!,
          events,
          logger,
          foldBarrier: foldBarrier({
            ends: () => kafka.topicEnds(kafka.topic(config.METRICS_TOPIC)),
            applied: appliedOffsets(knex, kafka.topic(config.METRICS_TOPIC)),
            timeoutMs: FOLD_WAIT_MS,
          }),
        }),
        events,
      };
      // Before serving: a process killed between a Redis change and its publish (this one, or another
      // replica) may have left a view or a like decision in Redis that no event backs. Redis forgets
      // every view epoch now; once the producer is connected, recent like entries are published again
      // (decisions acknowledged but not folded yet stay, so no answer is decided on PostgreSQL's older
      // rows) and older likers are dropped. Like decisions wait for that second step.
      const reset = await resetOnStart({ cache, service: api.service, producer: events.producer });
      logger.info(
        { view_epochs_reset: reset.epochs.epochs },
        'redis view epochs not backed by an event reset',
      );
      void reset.likers.then(
        (outcome) =>
          outcome &&
          logger.info(
            { likers_dropped: outcome.likers, likers_confirmed: outcome.confirmed },
            'recent like decisions published again; older likers dropped',
          ),
        (err: unknown) =>
          logger.error(errorFields(err), 'recent like decisions could not be confirmed; decisions go on'),
      );
    }

    const consumers: EventConsumer[] = [];
    if (runsConsumers) {
      const folder = createCounterFolder({ knex, cache, posts, logger, metrics });
      const common = {
        kafka,
        logger,
        metrics: kafkaMetrics,
        folder,
        sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
      };
      consumers.push(
        createCounterConsumer({
          ...common,
          topic: config.METRICS_TOPIC,
          groupId: config.METRICS_CONSUMER_GROUP,
          batchSize: config.METRICS_BATCH_SIZE,
          fetchMinBytes: config.METRICS_FETCH_MIN_BYTES,
          fetchMaxWaitMs: config.METRICS_FETCH_MAX_WAIT_MS,
        }),
        createPostDeletionConsumer({
          ...common,
          topic: config.POSTS_TOPIC,
          groupId: config.POSTS_CONSUMER_GROUP,
        }),
      );
    }

    const app = createHttpApp({
      logger,
      metrics,
      readiness: readinessChecks({
        knex,
        redis,
        kafka,
        producer: api?.events.producer,
        consumers,
        consumerMaxStallSeconds: config.CONSUMER_MAX_STALL_SECONDS,
        startedAt,
      }),
      routes: api,
    });
    const http = await listen(app, config.HTTP_PORT, config.HOST);
    const grpc = api ? createGrpcServer({ logger, metrics, service: api.service }) : undefined;
    const grpcPort = grpc ? await grpc.listen(config.GRPC_PORT, config.HOST) : undefined;

    // Intake first (HTTP, gRPC, new batches), then the work in flight, then the clients.
    const steps: ShutdownStep[] = [{ name: 'http', run: () => http.close() }];
    if (grpc) steps.push({ name: 'grpc', run: () => grpc.close() });
    // A SIGTERM that arrives while a consumer is still starting (Kafka slow or away) stops it too:
    // stop() ends its start-up attempts, so the process exits cleanly instead of dying by the signal.
    for (const consumer of consumers) {
      steps.push({ name: `consumer ${consumer.groupId}`, run: () => consumer.stop() });
    }
    if (api) {
      // Take-backs of decisions whose publish failed are still being published: give them a moment
      // (whatever is left is covered by the next start's reset, which reloads likers from PostgreSQL).
      steps.push({
        name: 'like take-backs',
        run: () =>
          Promise.race([
            api.service.idle(),
            new Promise<void>((resolve) => setTimeout(resolve, TAKE_BACK_DRAIN_MS).unref()),
          ]),
      });
      steps.push({ name: 'kafka producer', run: () => api.events.producer.disconnect() });
    }
    if (posts) steps.push({ name: 'posts client', run: () => posts.close() });
    if (revocations) steps.push({ name: 'session revocations', run: () => revocations.stop() });
    steps.push({ name: 'redis', run: () => redis.quit() }, { name: 'database', run: () => knex.destroy() });
    registerShutdown({
      logger,
      timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      drainMs: config.SHUTDOWN_DRAIN_MS,
      steps,
    });
    // Kafka may be down: each consumer joins its group now or as soon as Kafka answers.
    for (const consumer of consumers) consumer.startInBackground();
    logger.info(
      { role: config.METRICS_ROLE, http_port: http.port, grpc_port: grpcPort, topic: config.METRICS_TOPIC },
      'metrics started',
    );
  } catch (err) {
    logger.fatal(errorFields(err, true), 'metrics failed to start');
    process.exit(1);
  }
}

void main();
