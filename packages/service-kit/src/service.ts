import type http from 'node:http';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import type { EventEnvelope } from '@mpb/contracts';
import {
  createKafkaMetrics,
  ensureTopics,
  EventConsumer,
  EventProducer,
  LedgerPruner,
  pruneProcessedEvents,
  startOutboxPipeline,
  type KafkaClient,
  type KafkaMetrics,
  type OutboxPipeline,
} from '@mpb/kafka';
import { createLogger, errorFields, type Logger } from '@mpb/logger';
import { CLIENT_TIMEOUTS, createKafkaClient, createRedisClient } from './clients';
import { ConfigError, type BaseConfig } from './config';
import type { Migration } from './db';
import type { GrpcServer } from './grpc/server';
import { createMetricsApp, degradedOnFailure, type ReadinessCheck } from './http/app';
import { listen } from './http/listen';
import type { Jwk } from './jwt-verifier';
import { jwksFromAuth } from './jwt-verifier';
import { createMetrics, type ServiceMetrics } from './metrics';
import {
  consumerProgressCheck,
  databaseCheck,
  kafkaCheck,
  outboxLagCheck,
  redisCheck,
  type OutboxBacklogSource,
} from './readiness';
import { followSessionRevocations, type SessionRevocations } from './session-revocations';
import { registerShutdown, type ShutdownStep } from './shutdown';
import { openServiceDatabase, type ServiceDatabaseOptions } from './startup-database';
import { startTracing } from './tracing';

/**
 * The configuration keys the kit reads. Each service's config (its joi schema, validated once) has
 * those of the clients it declares: a service that asks for Redis has REDIS_URL, one with an outbox
 * has the KAFKA_* keys, and so on. A key missing for a client the service asks for fails its start.
 */
export interface PlatformConfig extends BaseConfig {
  HTTP_PORT: number;
  GRPC_PORT?: number;
  /** Set: /metrics is served on this port of its own too (the gateway keeps it off the public one). */
  METRICS_PORT?: number;
  DATABASE_URL?: string;
  MIGRATE_ON_START?: boolean;
  DATABASE_STATEMENT_TIMEOUT_MS?: number;
  REDIS_URL?: string;
  REDIS_COMMAND_TIMEOUT_MS?: number;
  KAFKA_BROKERS?: string;
  KAFKA_CLIENT_ID?: string;
  KAFKA_TOPIC_PREFIX?: string;
  /** The consumer group of a service that declares `consumes`. */
  KAFKA_GROUP_ID?: string;
  KAFKA_MAX_REQUEST_BYTES?: number;
  KAFKA_MAX_EVENT_BYTES?: number;
  LEDGER_RETENTION_HOURS?: number;
  OUTBOX_MAX_LAG_SECONDS?: number;
  CONSUMER_MAX_STALL_SECONDS?: number;
  AUTH_URL?: string;
  AUTH_GRPC_ADDR?: string;
  JWKS_TIMEOUT_MS?: number;
}

/** Defaults of the keys above where a service's schema has none (the schemas' own defaults). */
const DEFAULT_OUTBOX_MAX_LAG_SECONDS = 60;
const DEFAULT_CONSUMER_MAX_STALL_SECONDS = 120;
const DEFAULT_LEDGER_RETENTION_HOURS = 192;

/**
 * What a consumer's factory gets from the kit: the service's one Kafka client, logger and metrics,
 * and what to do when kafkajs gives the consumer up (the kit's `onFatal`: see KitOverrides).
 */
export interface ConsumerDeps {
  kafka: KafkaClient;
  logger: Logger;
  metrics: KafkaMetrics;
  onFatal: (err: Error) => void;
}

/** Something that runs in the background once the service listens: a scheduler, a reconciler. */
export interface Worker {
  start(): unknown;
  stop(): unknown;
}

/**
 * What a service's `build` is handed: its validated config, logger and metrics, and the factory of
 * every client it uses. Each client made here is closed at shutdown, in the reverse order of making
 * (what was made last, and so depends on the earlier ones, goes first); each is checked by /readyz
 * by the platform's rule (see `readiness`).
 */
export interface ServiceKit<C extends PlatformConfig = PlatformConfig> {
  readonly name: string;
  readonly config: C;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  /** When the service started: a consumer's progress is measured from here until its first event. */
  readonly startedAt: Date;
  /** The service's database: created outside production, migrated when MIGRATE_ON_START says so. */
  database(o: { migrations: Record<string, Migration>; applicationName?: string }): Promise<Knex>;
  /** A Redis client (REDIS_URL, REDIS_COMMAND_TIMEOUT_MS); not ready while Redis does not answer. */
  redis(o?: { autoPipelining?: boolean }): Redis;
  /** The service's one Kafka client (KAFKA_*); every producer and consumer of the service uses it. */
  kafka(): KafkaClient;
  /** The service's Kafka metrics, in its registry. */
  kafkaMetrics(): KafkaMetrics;
  /**
   * Publishes through the transactional outbox of `knex` to `topics`: a producer and the relay, which
   * start at once and connect in the background. Kafka down or the outbox lagging: degraded.
   */
  outbox(o: { knex: Knex; topics: string[] }): Promise<OutboxPipeline>;
  /** Publishes straight to `topics` (created first), connecting in the background. Kafka down: degraded. */
  producer(topics: string[]): EventProducer;
  /**
   * Consumes with the consumer `make` builds; it joins its group once the service listens (or as soon
   * as Kafka answers), and its readiness check, named `name`, is the platform's consumer rule.
   */
  consumer(name: string, make: (deps: ConsumerDeps) => EventConsumer): EventConsumer;
  /**
   * Consumes `topics` in the service's group (KAFKA_GROUP_ID), one event at a time, with `handle`
   * recording each event id in the processed-events ledger of `ledger` (pruned past
   * LEDGER_RETENTION_HOURS): the `consumer` of the platform's idempotent consumers.
   */
  consumes(o: {
    topics: string[];
    ledger: Knex;
    handle: (envelope: EventEnvelope) => Promise<void>;
  }): EventConsumer;
  /** Deletes processed-event ids of `knex` past LEDGER_RETENTION_HOURS, once the service listens. */
  processedEventsPruner(knex: Knex): LedgerPruner;
  /** The sessions auth revoked, followed from its feed at AUTH_GRPC_ADDR. */
  revocations(): Promise<SessionRevocations>;
  /** Where access tokens' public keys come from: auth's JWKS at AUTH_URL (a test may hand its own). */
  jwks(): () => Promise<Jwk[]>;
  /** Any other client (a gRPC client, an S3 client): closed with the others, in the same order. */
  closes<T>(name: string, resource: T, close: (resource: T) => unknown): T;
  /** A background worker: started once the service listens, stopped in the same order as clients. */
  worker<W extends Worker>(name: string, worker: W): W;
  /**
   * /readyz of what was declared so far, by the platform's rule: the database and Redis must answer
   * (else 503); Kafka, the outbox and each consumer are degraded when failing (200 with the detail),
   * since every service answers its API while they recover. `extra` adds the service's own checks.
   */
  readiness(extra?: Record<string, ReadinessCheck>): Record<string, ReadinessCheck>;
}

/** What `build` returns: the transports (`runService` listens on them) and anything a test reads. */
export interface ServiceParts {
  http: Express;
  /** Listening on GRPC_PORT when present. */
  grpc?: GrpcServer;
  /** Called with the HTTP server once it listens. */
  onListening?: (server: http.Server) => void;
  /** Fields of the "<service> started" log line. */
  about?: Record<string, unknown>;
}

/** A service, declared: its name, how its config is read, and how it is built on the kit. */
export interface ServiceDefinition<C extends PlatformConfig, P extends ServiceParts> {
  name: string;
  /** Reads and validates the environment (throws a ConfigError naming every bad key). */
  config(env: NodeJS.ProcessEnv): C;
  build(kit: ServiceKit<C>): Promise<P>;
}

export const defineService = <C extends PlatformConfig, P extends ServiceParts>(
  definition: ServiceDefinition<C, P>,
): ServiceDefinition<C, P> => definition;

/** What a test may put in place of the production wiring. */
export interface KitOverrides {
  /**
   * A part of the service failed for good (a consumer kafkajs will not restart): `runService` logs it
   * and exits 1, so the orchestrator starts a new process. Without it (a test harness) the failure is
   * logged and the part reports itself not ready.
   */
  onFatal?: (err: Error, part: string) => void;
  /** Access tokens' public keys (a test signs its own tokens). */
  loadKeys?: () => Promise<Jwk[]>;
  /** Opens the database (a test pointing at a server that is down skips creating and migrating it). */
  openDatabase?: (o: ServiceDatabaseOptions) => Promise<Knex>;
}

/**
 * The shutdown order: intake first (HTTP, then gRPC, in the order they listened), then everything
 * the service made, newest first: consumers and workers finish their work before the producers and
 * clients they use are closed, and the database goes last.
 */
export function shutdownOrder(intake: ShutdownStep[], made: ShutdownStep[]): ShutdownStep[] {
  return [...intake, ...[...made].reverse()];
}

class Kit<C extends PlatformConfig> implements ServiceKit<C> {
  readonly steps: ShutdownStep[] = [];
  private readonly workers: Array<{ name: string; start(): unknown }> = [];
  private db?: Knex;
  private redisClient?: Redis;
  private kafkaClient?: KafkaClient;
  private kafkaMetricsOf?: KafkaMetrics;
  private publisher?: { isConnected(): boolean };
  private relay?: OutboxBacklogSource;
  private readonly consumers: Array<{ name: string; consumer: EventConsumer }> = [];

  constructor(
    readonly name: string,
    readonly config: C,
    readonly logger: Logger,
    readonly metrics: ServiceMetrics,
    readonly startedAt: Date,
    private readonly overrides: KitOverrides,
  ) {}

  private need<K extends keyof PlatformConfig>(key: K): NonNullable<C[K]> {
    const value = this.config[key];
    if (value === undefined || value === null || value === '') {
      throw new Error(`${this.name}: ${String(key)} is not in the service's configuration`);
    }
    return value as NonNullable<C[K]>;
  }

  /** What a part that failed for good triggers (see KitOverrides.onFatal). */
  fatal(err: Error, part: string): void {
    if (this.overrides.onFatal) this.overrides.onFatal(err, part);
    else this.logger.error({ part, ...errorFields(err) }, 'a part of the service failed for good');
  }

  closes<T>(name: string, resource: T, close: (resource: T) => unknown): T {
    this.steps.push({ name, run: () => close(resource) });
    return resource;
  }

  worker<W extends Worker>(name: string, worker: W): W {
    this.workers.push({ name, start: () => worker.start() });
    return this.closes(name, worker, (w) => w.stop());
  }

  async database(o: { migrations: Record<string, Migration>; applicationName?: string }): Promise<Knex> {
    const open = this.overrides.openDatabase ?? openServiceDatabase;
    const knex = await open({
      settings: {
        NODE_ENV: this.config.NODE_ENV,
        DATABASE_URL: this.need('DATABASE_URL'),
        MIGRATE_ON_START: this.config.MIGRATE_ON_START ?? true,
        DATABASE_STATEMENT_TIMEOUT_MS: this.config.DATABASE_STATEMENT_TIMEOUT_MS,
      },
      migrations: o.migrations,
      logger: this.logger,
      pool: { applicationName: o.applicationName ?? this.name },
    });
    this.db = knex;
    return this.closes('database', knex, (k) => k.destroy());
  }

  redis(o: { autoPipelining?: boolean } = {}): Redis {
    const redis = createRedisClient(this.need('REDIS_URL'), {
      logger: this.logger,
      commandTimeoutMs: this.config.REDIS_COMMAND_TIMEOUT_MS,
      autoPipelining: o.autoPipelining,
    });
    this.redisClient = redis;
    return this.closes('redis', redis, (r) => r.quit());
  }

  kafka(): KafkaClient {
    this.kafkaClient ??= createKafkaClient(
      {
        KAFKA_BROKERS: this.need('KAFKA_BROKERS'),
        KAFKA_CLIENT_ID: this.config.KAFKA_CLIENT_ID ?? `mpb-${this.name}`,
        KAFKA_TOPIC_PREFIX: this.config.KAFKA_TOPIC_PREFIX ?? '',
      },
      this.logger,
    );
    return this.kafkaClient;
  }

  kafkaMetrics(): KafkaMetrics {
    this.kafkaMetricsOf ??= createKafkaMetrics(this.metrics.registry);
    return this.kafkaMetricsOf;
  }

  async outbox(o: { knex: Knex; topics: string[] }): Promise<OutboxPipeline> {
    const c = this.config;
    const kafka = this.kafka();
    const pipeline = await startOutboxPipeline({
      clientId: kafka.clientId,
      brokers: kafka.brokers.join(','),
      kafka,
      metrics: this.kafkaMetrics(),
      registry: this.metrics.registry,
      knex: o.knex,
      logger: this.logger,
      topics: o.topics,
      maxBatchBytes: c.KAFKA_MAX_REQUEST_BYTES,
      maxEventBytes: c.KAFKA_MAX_EVENT_BYTES,
      retentionMs: this.retentionMs(),
    });
    this.publisher = pipeline.producer;
    this.relay = pipeline.relay;
    this.closes('kafka producer', pipeline.producer, (p) => p.disconnect());
    return this.closes('outbox relay', pipeline, (p) => p.relay.stop());
  }

  producer(topics: string[]): EventProducer {
    const kafka = this.kafka();
    const producer = new EventProducer({ kafka, logger: this.logger, metrics: this.kafkaMetrics() });
    void producer.connectInBackground(() => ensureTopics(kafka, topics));
    this.publisher = producer;
    return this.closes('kafka producer', producer, (p) => p.disconnect());
  }

  consumer(name: string, make: (deps: ConsumerDeps) => EventConsumer): EventConsumer {
    const consumer = make({
      kafka: this.kafka(),
      logger: this.logger,
      metrics: this.kafkaMetrics(),
      onFatal: (err) => this.fatal(err, name),
    });
    this.consumers.push({ name, consumer });
    this.worker(name, { start: () => consumer.startInBackground(), stop: () => consumer.stop() });
    return consumer;
  }

  consumes(o: {
    topics: string[];
    ledger: Knex;
    handle: (envelope: EventEnvelope) => Promise<void>;
  }): EventConsumer {
    const groupId = this.need('KAFKA_GROUP_ID');
    this.processedEventsPruner(o.ledger);
    return this.consumer(
      'consumer',
      (deps) => new EventConsumer({ ...deps, groupId, topics: o.topics, handle: o.handle }),
    );
  }

  processedEventsPruner(knex: Knex): LedgerPruner {
    const retentionMs = this.retentionMs();
    const pruner = new LedgerPruner({
      logger: this.logger,
      tasks: { processed_events: () => pruneProcessedEvents(knex, retentionMs) },
    });
    return this.worker('ledger pruner', pruner);
  }

  async revocations(): Promise<SessionRevocations> {
    const revocations = await followSessionRevocations(this.need('AUTH_GRPC_ADDR'), this.logger);
    return this.closes('session revocations', revocations, (r) => r.stop());
  }

  jwks(): () => Promise<Jwk[]> {
    return this.overrides.loadKeys ?? jwksFromAuth(this.need('AUTH_URL'), this.config.JWKS_TIMEOUT_MS);
  }

  readiness(extra: Record<string, ReadinessCheck> = {}): Record<string, ReadinessCheck> {
    const checks: Record<string, ReadinessCheck> = {};
    if (this.db) checks.database = databaseCheck(this.db);
    if (this.redisClient) checks.redis = redisCheck(this.redisClient);
    const kafka = this.kafkaClient;
    if (kafka) {
      // A service that only consumes has no producer: the broker answering is what it needs.
      checks.kafka = degradedOnFailure(
        this.publisher
          ? kafkaCheck({ kafka, producer: this.publisher })
          : () => kafka.ping(CLIENT_TIMEOUTS.kafka.pingMs),
      );
    }
    if (this.relay) {
      const maxLag = this.config.OUTBOX_MAX_LAG_SECONDS ?? DEFAULT_OUTBOX_MAX_LAG_SECONDS;
      checks.outbox = degradedOnFailure(outboxLagCheck(this.relay, maxLag));
    }
    for (const { name, consumer } of this.consumers) {
      checks[name] = consumerProgressCheck(() => consumer, {
        maxStallSeconds: this.config.CONSUMER_MAX_STALL_SECONDS ?? DEFAULT_CONSUMER_MAX_STALL_SECONDS,
        startedAt: this.startedAt,
      });
    }
    return { ...checks, ...extra };
  }

  /** Starts the workers (consumers included), or only those named in `only`. */
  startWorkers(only?: string[]): void {
    for (const w of this.workers) if (!only || only.includes(w.name)) w.start();
  }

  /** Closes everything made so far, newest first; a failing step is logged and the others still run. */
  async close(): Promise<void> {
    for (const step of shutdownOrder([], this.steps)) {
      try {
        await step.run();
      } catch (err) {
        this.logger.error({ step: step.name, ...errorFields(err) }, 'close step failed');
      }
    }
  }

  private retentionMs(): number {
    return (this.config.LEDGER_RETENTION_HOURS ?? DEFAULT_LEDGER_RETENTION_HOURS) * 3600 * 1000;
  }
}

/** A service built by a test: everything `runService` makes, minus the listening ports and signals. */
export interface BuiltService<C extends PlatformConfig, P extends ServiceParts> {
  config: C;
  parts: P;
  kit: ServiceKit<C>;
  /** Starts the consumers and workers (or only those named), as `runService` does once the service listens. */
  start(only?: string[]): void;
  /** Closes every client and worker, newest first. */
  close(): Promise<void>;
}

export interface BuildOptions extends KitOverrides {
  /** The environment the config is read from (process.env by default). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  metrics?: ServiceMetrics;
}

/** For test harnesses: builds the service exactly as `runService` does, without listening. */
export async function buildService<C extends PlatformConfig, P extends ServiceParts>(
  definition: ServiceDefinition<C, P>,
  o: BuildOptions = {},
): Promise<BuiltService<C, P>> {
  const config = definition.config(o.env ?? process.env);
  const logger = o.logger ?? createLogger({ service: definition.name, level: config.LOG_LEVEL });
  const kit = new Kit(
    definition.name,
    config,
    logger,
    o.metrics ?? createMetrics(definition.name),
    new Date(),
    o,
  );
  let parts: P;
  try {
    parts = await definition.build(kit);
  } catch (err) {
    await kit.close();
    throw err;
  }
  return { config, parts, kit, start: (only) => kit.startWorkers(only), close: () => kit.close() };
}

/** A service running: its config, its parts, its ports and its shutdown (what SIGTERM runs). */
export interface RunningService<C extends PlatformConfig, P extends ServiceParts> {
  config: C;
  parts: P;
  httpPort: number;
  grpcPort?: number;
  metricsPort?: number;
  shutdown(): Promise<void>;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** What ends the process (tests record the code instead). */
  exit?: (code: number) => void;
}

/**
 * The composition root of every service (its main.ts calls it): reads the config once (a bad one:
 * one JSON line naming every problem, exit 1), starts tracing, builds the service on the kit, listens
 * on HTTP_PORT (and METRICS_PORT, GRPC_PORT), registers the shutdown (see `shutdownOrder`), then
 * starts the consumers and workers, so a SIGTERM during their start-up still exits cleanly.
 */
export async function runService<C extends PlatformConfig, P extends ServiceParts>(
  definition: ServiceDefinition<C, P>,
  o: RunOptions = {},
): Promise<RunningService<C, P> | undefined> {
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const startedAt = new Date();
  let config: C;
  try {
    config = definition.config(o.env ?? process.env);
  } catch (err) {
    const problems = err instanceof ConfigError ? err.problems : [String(err)];
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', service: definition.name, msg: 'invalid configuration', problems })}\n`,
    );
    exit(1);
    return undefined;
  }
  const logger = createLogger({ service: definition.name, level: config.LOG_LEVEL });
  startTracing(definition.name, config);
  try {
    const kit = new Kit(definition.name, config, logger, createMetrics(definition.name), startedAt, {
      onFatal: (err, part) => {
        logger.fatal({ part, ...errorFields(err) }, `${part} failed for good; exiting`);
        exit(1);
      },
    });
    const parts = await definition.build(kit);
    const http = await listen(parts.http, config.HTTP_PORT, config.HOST);
    parts.onListening?.(http.server);
    const intake: ShutdownStep[] = [{ name: 'http', run: () => http.close() }];
    let metricsPort: number | undefined;
    if (config.METRICS_PORT !== undefined) {
      const metricsHttp = await listen(createMetricsApp(kit.metrics), config.METRICS_PORT, config.HOST);
      intake.push({ name: 'metrics http', run: () => metricsHttp.close() });
      metricsPort = metricsHttp.port;
    }
    let grpcPort: number | undefined;
    const grpc = parts.grpc;
    if (grpc) {
      if (config.GRPC_PORT === undefined)
        throw new Error(`${definition.name}: GRPC_PORT is not in its configuration`);
      grpcPort = await grpc.listen(config.GRPC_PORT, config.HOST);
      intake.push({ name: 'grpc', run: () => grpc.close() });
    }
    const shutdown = registerShutdown({
      logger,
      timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      drainMs: config.SHUTDOWN_DRAIN_MS,
      steps: shutdownOrder(intake, kit.steps),
      exit,
    });
    kit.startWorkers();
    logger.info(
      { http_port: http.port, grpc_port: grpcPort, metrics_port: metricsPort, ...parts.about },
      `${definition.name} started`,
    );
    return { config, parts, httpPort: http.port, grpcPort, metricsPort, shutdown };
  } catch (err) {
    logger.fatal(errorFields(err, true), `${definition.name} failed to start`);
    exit(1);
    return undefined;
  }
}
