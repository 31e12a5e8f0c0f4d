import Joi from 'joi';
import { DEFAULT_TOKEN_AUDIENCE, DEFAULT_TOKEN_ISSUER } from '@mpb/contracts';
import { CLIENT_TIMEOUTS } from './clients';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment once, at start-up, and names every missing or bad key at once. Besides
 * checking, it fills in the schema's defaults (the zero-config local values), converts text to the
 * numbers and booleans the schema asks for, and drops every key the schema does not name, so the
 * result holds only validated values of the right types.
 */
export function loadConfig<T>(schema: Joi.ObjectSchema<T>, env: NodeJS.ProcessEnv = process.env): T {
  const { value, error } = schema.validate(env, {
    abortEarly: false,
    allowUnknown: true,
    stripUnknown: true,
    convert: true,
  });
  if (error) throw new ConfigError(error.details.map((d) => d.message));
  return value;
}

/** The values of baseConfigKeys; services' config interfaces extend it. */
export interface BaseConfig {
  NODE_ENV: 'development' | 'test' | 'production';
  LOG_LEVEL: string;
  HOST: string;
  SHUTDOWN_TIMEOUT_MS: number;
  SHUTDOWN_DRAIN_MS: number;
  /** Handed to startTracing by main.ts; nothing reads the environment for it. */
  OTEL_EXPORTER_OTLP_ENDPOINT: string;
}

/** Keys every service has. Services extend this with their own. */
export const baseConfigKeys = {
  NODE_ENV: Joi.string().valid('development', 'test', 'production').default('development'),
  LOG_LEVEL: Joi.string().valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent').default('info'),
  HOST: Joi.string().default('127.0.0.1'),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(0).max(120000).default(10000),
  /** Milliseconds to keep serving after SIGTERM before closing, so load balancers stop sending first. */
  SHUTDOWN_DRAIN_MS: Joi.number().integer().min(0).max(60000).default(0),
  /** An OTLP/HTTP collector (traces go to `<endpoint>/v1/traces`); empty: tracing is not exported. */
  OTEL_EXPORTER_OTLP_ENDPOINT: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .allow('')
    .default(''),
};

/** A secret that has a local default must be set explicitly in production. */
export const secretWithLocalDefault = (localDefault: string) =>
  Joi.string().when('NODE_ENV', {
    is: 'production',
    then: Joi.required(),
    otherwise: Joi.optional().default(localDefault),
  });

/** DATABASE_URL: a PostgreSQL URI. It carries the database credentials, so production must name it. */
export const databaseUrlKey = (localDefault: string) =>
  secretWithLocalDefault(localDefault).concat(Joi.string().uri({ scheme: ['postgres', 'postgresql'] }));

/** REDIS_URL: a redis:// or rediss:// URI, the local server by default. */
export const redisUrlKey = () =>
  Joi.string()
    .uri({ scheme: ['redis', 'rediss'] })
    .default('redis://127.0.0.1:6379');

/** The values of kafkaKeys. */
export interface KafkaConfig {
  /** Comma-separated host:port list. */
  KAFKA_BROKERS: string;
  KAFKA_CLIENT_ID: string;
  /** Put before every topic and consumer group name; deployments sharing a cluster keep apart. */
  KAFKA_TOPIC_PREFIX: string;
}

/** KAFKA_BROKERS (a comma-separated host:port list), KAFKA_CLIENT_ID and KAFKA_TOPIC_PREFIX. */
export const kafkaKeys = (clientId: string) => ({
  KAFKA_BROKERS: Joi.string()
    .pattern(/^[^\s:,]+:\d{1,5}(,[^\s:,]+:\d{1,5})*$/, 'comma-separated host:port list')
    .default('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: Joi.string().default(clientId),
  KAFKA_TOPIC_PREFIX: Joi.string()
    .pattern(/^[A-Za-z0-9._-]{0,100}$/, 'letters, digits, dots, dashes and underscores')
    .allow('')
    .default(''),
});

/** MIGRATE_ON_START: run the service's migrations before it listens. */
export const migrateOnStartKey = () => Joi.boolean().default(true);

/** The values of tokenVerificationKeys. */
export interface TokenVerificationConfig {
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
}

/** The issuer and audience access tokens must carry (auth signs with them, the others verify). */
export const tokenVerificationKeys = () => ({
  JWT_ISSUER: Joi.string().default(DEFAULT_TOKEN_ISSUER),
  JWT_AUDIENCE: Joi.string().default(DEFAULT_TOKEN_AUDIENCE),
});

/** AUTH_URL: auth's base URL, where the services that verify tokens read its JWKS. */
export const authUrlKey = () =>
  Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .default('http://127.0.0.1:3001');

/** AUTH_GRPC_ADDR: auth's gRPC host:port, where verifiers follow the revoked sessions (SessionRevocationService). */
export const authGrpcAddrKey = () =>
  Joi.string()
    .pattern(/^[^\s:,]+:\d{1,5}$/, 'host:port')
    .default('127.0.0.1:50051');

/** OUTBOX_MAX_LAG_SECONDS: /readyz reports degraded when the oldest unpublished outbox event is older than this. */
export const outboxMaxLagKey = () => Joi.number().integer().min(1).default(60);

/**
 * CONSUMER_MAX_STALL_SECONDS: /readyz reports an event consumer degraded when events wait and none was
 * processed for this long (`consumerProgressCheck`).
 */
export const consumerMaxStallKey = () => Joi.number().integer().min(5).default(120);

/** The values of outboxKeys. */
export interface OutboxConfig {
  /** Most bytes one produce request carries; under the brokers' `message.max.bytes`. */
  KAFKA_MAX_REQUEST_BYTES: number;
  /** An event larger than this is parked in the outbox, never sent. At most KAFKA_MAX_REQUEST_BYTES. */
  KAFKA_MAX_EVENT_BYTES: number;
}

/**
 * Size limits of a publishing service's outbox relay. The defaults fit a broker's defaults
 * (`message.max.bytes` 1 MiB): requests of at most 900 KiB, events of at most 256 KiB.
 */
export const outboxKeys = () => ({
  KAFKA_MAX_REQUEST_BYTES: Joi.number()
    .integer()
    .min(16 * 1024)
    .max(100 * 1024 * 1024)
    .default(900 * 1024),
  KAFKA_MAX_EVENT_BYTES: Joi.number()
    .integer()
    .min(1024)
    .max(Joi.ref('KAFKA_MAX_REQUEST_BYTES'))
    .default(256 * 1024),
});

/** The outbox relay's limits and retention from a publishing service's configuration. */
export const outboxLimitsOf = (c: OutboxConfig & { LEDGER_RETENTION_HOURS: number }) => ({
  maxBatchBytes: c.KAFKA_MAX_REQUEST_BYTES,
  maxEventBytes: c.KAFKA_MAX_EVENT_BYTES,
  retentionMs: c.LEDGER_RETENTION_HOURS * 3600 * 1000,
});

/**
 * LEDGER_RETENTION_HOURS: how long published outbox rows and processed-event ids are kept. A
 * processed id must outlive every redelivery of its event: the longest is a consumer group re-reading
 * a topic from its earliest offset (offsets reset or expired), which holds events for the topics'
 * `retention.ms` (Kafka's default: 7 days). The default, 8 days, is above that; at least one day.
 */
export const ledgerRetentionKey = () =>
  Joi.number()
    .integer()
    .min(24)
    .max(24 * 366)
    .default(192);

/**
 * DATABASE_STATEMENT_TIMEOUT_MS: PostgreSQL cancels any statement of the service's pool that runs
 * longer (`statement_timeout`), so one slow query cannot hold a connection of a small pool. 0: none.
 */
export const statementTimeoutKey = () =>
  Joi.number().integer().min(0).max(600_000).default(CLIENT_TIMEOUTS.database.statementMs);

/**
 * The values of serviceKeys: what every service that owns a database, serves gRPC and talks to Kafka
 * reads, besides the base keys.
 */
export interface ServiceConfig extends BaseConfig, KafkaConfig {
  HTTP_PORT: number;
  GRPC_PORT: number;
  DATABASE_URL: string;
  /** PostgreSQL cancels a statement of the service's pool running longer than this (0: never). */
  DATABASE_STATEMENT_TIMEOUT_MS: number;
  MIGRATE_ON_START: boolean;
}

/**
 * The base keys, the HTTP and gRPC ports, the database (local default `mpb_<name>`) and how it is
 * used, and Kafka (client id `mpb-<name>`) of one service.
 */
export const serviceKeys = (o: { name: string; httpPort: number; grpcPort: number }) => ({
  ...baseConfigKeys,
  HTTP_PORT: Joi.number().port().default(o.httpPort),
  GRPC_PORT: Joi.number().port().default(o.grpcPort),
  DATABASE_URL: databaseUrlKey(`postgres://postgres@127.0.0.1:5432/mpb_${o.name}`),
  DATABASE_STATEMENT_TIMEOUT_MS: statementTimeoutKey(),
  MIGRATE_ON_START: migrateOnStartKey(),
  ...kafkaKeys(`mpb-${o.name}`),
});

/** The values of authClientKeys. */
export interface AuthClientConfig extends TokenVerificationConfig {
  /** auth's base URL; its public keys are read where jwksUrlOf says: AUTH_URL + JWKS_PATH. */
  AUTH_URL: string;
  /** auth's gRPC host:port: the revoked sessions every access token's session is checked against. */
  AUTH_GRPC_ADDR: string;
}

/** What a service that verifies access tokens reads: the claims to pin and where auth is. */
export const authClientKeys = () => ({
  ...tokenVerificationKeys(),
  AUTH_URL: authUrlKey(),
  AUTH_GRPC_ADDR: authGrpcAddrKey(),
});

/** The values of publishingKeys. */
export interface PublishingConfig extends OutboxConfig {
  /** Published outbox rows and processed-event ids are deleted after this many hours. */
  LEDGER_RETENTION_HOURS: number;
  /** /readyz fails when the oldest unpublished outbox event is older than this. */
  OUTBOX_MAX_LAG_SECONDS: number;
}

/** What a service that publishes events through its outbox reads: limits, retention, readiness. */
export const publishingKeys = () => ({
  ...outboxKeys(),
  LEDGER_RETENTION_HOURS: ledgerRetentionKey(),
  OUTBOX_MAX_LAG_SECONDS: outboxMaxLagKey(),
});

/**
 * For a composition root: on a bad configuration, write one JSON line naming every problem to
 * stderr (no logger exists yet) and exit 1.
 */
export function loadConfigOrExit<T>(
  service: string,
  schema: Joi.ObjectSchema<T>,
  env: NodeJS.ProcessEnv = process.env,
): T {
  try {
    return loadConfig(schema, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', service, msg: 'invalid configuration', problems: err.problems })}\n`,
    );
    process.exit(1);
  }
}
