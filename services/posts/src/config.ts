import Joi from 'joi';
import {
  authGrpcAddrKey,
  authUrlKey,
  baseConfigKeys,
  type BaseConfig,
  databaseUrlKey,
  kafkaKeys,
  type KafkaConfig,
  loadConfig,
  loadConfigOrExit,
  migrateOnStartKey,
  outboxMaxLagKey,
  tokenVerificationKeys,
  type TokenVerificationConfig,
  statementTimeoutKey,
  outboxKeys,
  type OutboxConfig,
  ledgerRetentionKey,
} from '@mpb/service-kit';

export interface PostsConfig extends BaseConfig, KafkaConfig, TokenVerificationConfig, OutboxConfig {
  /** PostgreSQL cancels a statement of the service's pool running longer than this (0: never). */
  DATABASE_STATEMENT_TIMEOUT_MS: number;
  /** Published outbox rows and processed-event ids are deleted after this many hours. */
  LEDGER_RETENTION_HOURS: number;
  HTTP_PORT: number;
  GRPC_PORT: number;
  DATABASE_URL: string;
  MIGRATE_ON_START: boolean;
  /** auth's base URL; its public keys are read where jwksUrlOf (service kit) says: AUTH_URL + JWKS_PATH. */
  AUTH_URL: string;
  /** auth's gRPC host:port: the revoked sessions every access token's session is checked against. */
  AUTH_GRPC_ADDR: string;
  /** host:port of the metrics service's gRPC server (likes and views). */
  METRICS_GRPC_ADDR: string;
  /** Longest wait for metrics per request; past it the post is served with the last known counts. */
  METRICS_DEADLINE_MS: number;
  /** /readyz fails when the oldest unpublished outbox event is older than this. */
  OUTBOX_MAX_LAG_SECONDS: number;
  /**
   * How long a post read from PostgreSQL answers further reads of it (0: never). This process's
   * own updates and deletes take effect at once; another replica's within this time.
   */
  POST_CACHE_TTL_MS: number;
  /**
   * The gateway's TRUST_PROXY, set to the same value: posts trusts the gateway and, behind it, the
   * proxies the gateway trusts, to find an anonymous reader's address (view deduplication).
   */
  GATEWAY_TRUST_PROXY: string;
}

const HOST_PORT = /^[^\s:,/]+:\d{1,5}$/;

export const configSchema = Joi.object<PostsConfig>({
  ...baseConfigKeys,
  HTTP_PORT: Joi.number().port().default(3002),
  GRPC_PORT: Joi.number().port().default(50052),
  DATABASE_URL: databaseUrlKey('postgres://postgres@127.0.0.1:5432/mpb_posts'),
  DATABASE_STATEMENT_TIMEOUT_MS: statementTimeoutKey(),
  ...outboxKeys(),
  LEDGER_RETENTION_HOURS: ledgerRetentionKey(),
  ...kafkaKeys('mpb-posts'),
  MIGRATE_ON_START: migrateOnStartKey(),
  ...tokenVerificationKeys(),
  AUTH_URL: authUrlKey(),
  AUTH_GRPC_ADDR: authGrpcAddrKey(),
  METRICS_GRPC_ADDR: Joi.string().pattern(HOST_PORT, 'host:port').default('127.0.0.1:50055'),
  METRICS_DEADLINE_MS: Joi.number().integer().min(10).max(10_000).default(2000),
  OUTBOX_MAX_LAG_SECONDS: outboxMaxLagKey(),
  POST_CACHE_TTL_MS: Joi.number().integer().min(0).max(60_000).default(2000),
  GATEWAY_TRUST_PROXY: Joi.string()
    .trim()
    .default('false')
    .custom((value: string, helpers) => (/^true$/i.test(value) ? helpers.error('any.invalid') : value))
    .messages({
      'any.invalid': '"GATEWAY_TRUST_PROXY" must be false, a hop count or an address/CIDR list, never true',
    }),
});

/** The one place that reads the environment. */
export function loadPostsConfig(env: NodeJS.ProcessEnv = process.env): PostsConfig {
  return loadConfig(configSchema, env);
}

/** For entry points: the configuration, or one line naming every problem and exit code 1. */
export const loadPostsConfigOrExit = (service: string): PostsConfig =>
  loadConfigOrExit(service, configSchema);
