import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { errorFields, type Logger } from '@mpb/logger';
import { Counter, Histogram } from 'prom-client';
import {
  sessionTokenVerifier,
  jwksFromAuth,
  type ConsumerDeps,
  type Jwk,
  type ServiceKit,
  type ServiceMetrics,
  type SessionRevocations,
  type TokenVerifier,
} from '@mpb/service-kit';
import type { EventConsumer } from '@mpb/kafka';
import type { MetricsConfig } from './config';
import { PgCounterStore, PgFoldLedger } from './data/counter-repository';
import { appliedOffsets, FOLD_WAIT_MS, foldBarrier } from './data/fold-barrier';
import { RedisCounterCache, type ResetOutcome } from './data/redis-counter-cache';
import { CounterFolder } from './domain/folding';
import { CONFIRM_WINDOW_MS, MetricsService } from './domain/metrics-service';
import type { EventPublisher, PostDirectory } from './domain/ports';
import { createCounterConsumer, createPostDeletionConsumer } from './events/consumers';
import { metricEventsPublisher, type MetricEventsProducer } from './events/producer';
import { createPostDirectory, type GrpcPostDirectory } from './grpc/posts-directory';

export type MetricsSettings = Pick<
  MetricsConfig,
  | 'JWT_ISSUER'
  | 'JWT_AUDIENCE'
  | 'AUTH_URL'
  | 'METRICS_REDIS_PREFIX'
  | 'DELETED_POST_TTL_SECONDS'
  | 'METRICS_PUBLISH_TIMEOUT_MS'
  | 'VIEW_DEDUP_SECONDS'
>;

export function createCounterCache(redis: Redis, settings: MetricsSettings): RedisCounterCache {
  return new RedisCounterCache({
    redis,
    prefix: settings.METRICS_REDIS_PREFIX,
    deletedTtlSeconds: settings.DELETED_POST_TTL_SECONDS,
  });
}

/**
 * Before a process serves the API: nothing left in Redis without a published event behind it. View
 * epochs are forgotten; like entries of the last CONFIRM_WINDOW_MS are published again and kept (so
 * decisions acknowledged but not folded yet are not lost to a reload from PostgreSQL); older likers
 * are dropped and reloaded on next use.
 */
export function resetUnpublished(
  cache: RedisCounterCache,
  service: MetricsService,
  recentMs = CONFIRM_WINDOW_MS,
): Promise<ResetOutcome> {
  return cache.resetUnpublished({
    recentMs,
    confirm: (postId, entries, likes) => service.confirmLikers(postId, entries, likes),
  });
}

/** What the start-up reset needs of the producer: whether (and once) it can publish. */
export interface ProducerLink {
  whenConnected(): Promise<void>;
  isConnected(): boolean;
}

export interface StartUpReset {
  /** View epochs reset before the process serves. */
  epochs: ResetOutcome;
  /**
   * Recent likers confirmed (or dropped) once the producer connected; undefined when it never did
   * (the process stopped first). Like decisions wait for it.
   */
  likers: Promise<ResetOutcome | undefined>;
}

/**
 * The start-up reset of a process that serves the API, in two steps. View epochs are forgotten at once,
 * before the first view. Recent like entries are published again only once the producer is connected
 * (it connects in the background, and Kafka may be away at start): confirmed earlier, every one would
 * fail and every recent likers hash would be dropped, so decisions would be taken on PostgreSQL's rows,
 * which lack what the consumer has not folded yet (it rejoins its group after a restart). Decisions are
 * held until this step ends; reads answer meanwhile.
 */
export async function resetOnStart(d: {
  cache: RedisCounterCache;
  service: MetricsService;
  producer: ProducerLink;
  recentMs?: number;
}): Promise<StartUpReset> {
  const epochs = await d.cache.resetUnpublished({ likers: false });
  const likers = (async () => {
    await d.producer.whenConnected();
    if (!d.producer.isConnected()) return undefined;
    return d.cache.resetUnpublished({
      epochs: false,
      recentMs: d.recentMs ?? CONFIRM_WINDOW_MS,
      confirm: (postId, entries, likes) => d.service.confirmLikers(postId, entries, likes),
    });
  })();
  d.service.holdDecisions(likers);
  return { epochs, likers };
}

export interface ApiContext {
  service: MetricsService;
  verifier: TokenVerifier;
}

/** The API's domain objects on top of the clients main.ts (or a test) created. */
export function createApiContext(d: {
  settings: MetricsSettings;
  knex: Knex;
  /** The sessions auth revoked (followed from auth's feed in main.ts). */
  revocations: Pick<SessionRevocations, 'isRevoked'>;
  cache: RedisCounterCache;
  posts: PostDirectory;
  events: EventPublisher;
  logger: Logger;
  /** Where the verifier gets auth's public keys; auth's JWKS endpoint unless a test hands its own. */
  loadKeys?: () => Promise<Jwk[]>;
  /** Waits until PostgreSQL has every published metric event (see MetricsServiceDeps.foldBarrier). */
  foldBarrier?: () => Promise<void>;
}): ApiContext {
  const verifier = sessionTokenVerifier({
    settings: d.settings,
    loadKeys: d.loadKeys ?? jwksFromAuth(d.settings.AUTH_URL),
    revocations: d.revocations,
  });
  const service = new MetricsService({
    cache: d.cache,
    store: new PgCounterStore(d.knex),
    posts: d.posts,
    events: d.events,
    logger: d.logger.child({ component: 'metrics-service' }),
    publishTimeoutMs: d.settings.METRICS_PUBLISH_TIMEOUT_MS,
    viewDedupSeconds: d.settings.VIEW_DEDUP_SECONDS,
    foldBarrier: d.foldBarrier,
  });
  return { service, verifier };
}

const FOLDED_EVENTS = 'metrics_folded_events_total';
const FOLD_SECONDS = 'metrics_fold_seconds';

/** The consumer's domain object, reporting each batch to Prometheus. */
export function createCounterFolder(d: {
  knex: Knex;
  cache: RedisCounterCache;
  posts?: PostDirectory;
  logger: Logger;
  metrics: ServiceMetrics;
}): CounterFolder {
  const registry = d.metrics.registry;
  const events =
    (registry.getSingleMetric(FOLDED_EVENTS) as Counter<'result'> | undefined) ??
    new Counter({
      name: FOLDED_EVENTS,
      help: 'Metric events folded into PostgreSQL (applied), or found already applied (skipped)',
      labelNames: ['result'],
      registers: [registry],
    });
  const seconds =
    (registry.getSingleMetric(FOLD_SECONDS) as Histogram | undefined) ??
    new Histogram({
      name: FOLD_SECONDS,
      help: 'Time to fold one batch: the PostgreSQL transaction and the push to Redis',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  return new CounterFolder({
    ledger: new PgFoldLedger(d.knex),
    cache: d.cache,
    posts: d.posts,
    logger: d.logger.child({ component: 'counter-folder' }),
    onFold: (outcome, s) => {
      events.inc({ result: 'applied' }, outcome.applied);
      events.inc({ result: 'skipped' }, outcome.skipped);
      seconds.observe(s);
    },
  });
}

/** How long SIGTERM waits for take-backs still being published. */
const TAKE_BACK_DRAIN_MS = 3000;

export type MetricsApi = ApiContext & {
  events: MetricEventsProducer;
  posts: GrpcPostDirectory;
  revocations: SessionRevocations;
};

/**
 * The API of a process that serves it (roles `all` and `api`), on the kit: the producer of the metrics
 * topic, the like and view service, and the start-up reset. Before serving, a process killed between
 * a Redis change and its publish (this one, or another replica) may have left a view or a like
 * decision in Redis that no event backs: Redis forgets every view epoch now; once the producer is
 * connected, recent like entries are published again and older likers are dropped (see resetOnStart).
 */
export async function startMetricsApi(
  kit: ServiceKit<MetricsConfig>,
  d: { knex: Knex; cache: RedisCounterCache },
): Promise<MetricsApi> {
  const { config, logger } = kit;
  // Revoked sessions from auth, held in memory: a token check never waits on the network.
  const revocations = await kit.revocations();
  const posts = kit.closes(
    'posts client',
    createPostDirectory({
      address: config.POSTS_GRPC_ADDR,
      deadlineMs: config.POSTS_DEADLINE_MS,
      cacheTtlMs: config.POSTS_CACHE_TTL_MS,
    }),
    (client) => client.close(),
  );
  const events = metricEventsPublisher(kit.producer([config.METRICS_TOPIC]), config.METRICS_TOPIC);
  const kafka = kit.kafka();
  const context = createApiContext({
    settings: config,
    knex: d.knex,
    revocations,
    cache: d.cache,
    posts,
    events,
    logger,
    loadKeys: kit.jwks(),
    foldBarrier: foldBarrier({
      ends: () => kafka.topicEnds(kafka.topic(config.METRICS_TOPIC)),
      applied: appliedOffsets(d.knex, kafka.topic(config.METRICS_TOPIC)),
      timeoutMs: FOLD_WAIT_MS,
    }),
  });
  // Take-backs of decisions whose publish failed are still being published at shutdown: give them a
  // moment before the producer closes (what is left is covered by the next start's reset).
  kit.closes('like take-backs', context.service, (service) =>
    Promise.race([
      service.idle(),
      new Promise<void>((resolve) => setTimeout(resolve, TAKE_BACK_DRAIN_MS).unref()),
    ]),
  );
  const reset = await resetOnStart({ cache: d.cache, service: context.service, producer: events.producer });
  logger.info({ view_epochs_reset: reset.epochs.epochs }, 'redis view epochs not backed by an event reset');
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
  return { ...context, events, posts, revocations };
}

/** One of the two consumers of a process that runs them: its readiness name and how it is made. */
export interface ConsumerSpec {
  name: string;
  make(deps: ConsumerDeps): EventConsumer;
}

/**
 * The consumers of a process that runs them (roles `all` and `consumer`): the metrics topic folded
 * into PostgreSQL, and post deletions removing counters, on the topics and groups of the config.
 */
export function metricsConsumers(config: MetricsConfig, folder: CounterFolder): ConsumerSpec[] {
  const session = { folder, sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS };
  return [
    {
      name: `consumer ${config.METRICS_CONSUMER_GROUP}`,
      make: (deps) =>
        createCounterConsumer({
          ...deps,
          ...session,
          topic: config.METRICS_TOPIC,
          groupId: config.METRICS_CONSUMER_GROUP,
          batchSize: config.METRICS_BATCH_SIZE,
          fetchMinBytes: config.METRICS_FETCH_MIN_BYTES,
          fetchMaxWaitMs: config.METRICS_FETCH_MAX_WAIT_MS,
        }),
    },
    {
      name: `consumer ${config.POSTS_CONSUMER_GROUP}`,
      make: (deps) =>
        createPostDeletionConsumer({
          ...deps,
          ...session,
          topic: config.POSTS_TOPIC,
          groupId: config.POSTS_CONSUMER_GROUP,
        }),
    },
  ];
}
