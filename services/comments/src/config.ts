import Joi from 'joi';
import {
  authGrpcAddrKey,
  authUrlKey,
  baseConfigKeys,
  consumerMaxStallKey,
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

export interface CommentsConfig extends BaseConfig, KafkaConfig, TokenVerificationConfig, OutboxConfig {
  /** PostgreSQL cancels a statement of the service's pool running longer than this (0: never). */
  DATABASE_STATEMENT_TIMEOUT_MS: number;
  /** Published outbox rows and processed-event ids are deleted after this many hours. */
  LEDGER_RETENTION_HOURS: number;
  HTTP_PORT: number;
  GRPC_PORT: number;
  DATABASE_URL: string;
  /** Consumer group reading post events; every replica uses the same one. */
  KAFKA_GROUP_ID: string;
  MIGRATE_ON_START: boolean;
  /** Base URL of auth; its JWKS (JWKS_PATH) verifies access tokens. */
  AUTH_URL: string;
  /** auth's gRPC host:port: the revoked sessions every access token's session is checked against. */
  AUTH_GRPC_ADDR: string;
  /** host:port of the posts gRPC server, asked whether a post exists before a comment is stored. */
  POSTS_GRPC_ADDR: string;
  POSTS_DEADLINE_MS: number;
  /**
   * How long a read may trust posts' "this post is live" before asking again (0: never, every read
   * of a commented post asks; reads of one post at the same moment share one call). "Deleted" is kept.
   */
  POST_LIVENESS_CACHE_MS: number;
  /** /readyz fails when the oldest unpublished outbox event is older than this. */
  OUTBOX_MAX_LAG_SECONDS: number;
  /** /readyz fails when post events wait and the consumer has not processed one for this long. */
  CONSUMER_MAX_STALL_SECONDS: number;
}

export const configSchema = Joi.object<CommentsConfig>({
  ...baseConfigKeys,
  HTTP_PORT: Joi.number().port().default(3003),
  GRPC_PORT: Joi.number().port().default(50053),
  DATABASE_URL: databaseUrlKey('postgres://postgres@127.0.0.1:5432/mpb_comments'),
  DATABASE_STATEMENT_TIMEOUT_MS: statementTimeoutKey(),
  ...outboxKeys(),
  LEDGER_RETENTION_HOURS: ledgerRetentionKey(),
  ...kafkaKeys('mpb-comments'),
  KAFKA_GROUP_ID: Joi.string()
    .pattern(/^[A-Za-z0-9._-]{1,200}$/, 'consumer group id')
    .default('comments'),
  MIGRATE_ON_START: migrateOnStartKey(),
  ...tokenVerificationKeys(),
  AUTH_URL: authUrlKey(),
  AUTH_GRPC_ADDR: authGrpcAddrKey(),
  POSTS_GRPC_ADDR: Joi.string()
    .pattern(/^[^\s:,]+:\d{1,5}$/, 'host:port')
    .default('127.0.0.1:50052'),
  POSTS_DEADLINE_MS: Joi.number().integer().min(50).max(30_000).default(1000),
  POST_LIVENESS_CACHE_MS: Joi.number().integer().min(0).max(60_000).default(0),
  OUTBOX_MAX_LAG_SECONDS: outboxMaxLagKey(),
  CONSUMER_MAX_STALL_SECONDS: consumerMaxStallKey(),
});

/** The one place that reads the environment. */
export function loadCommentsConfig(env: NodeJS.ProcessEnv = process.env): CommentsConfig {
  return loadConfig(configSchema, env);
}

/** For entry points: the configuration, or one line naming every problem and exit code 1. */
export const loadCommentsConfigOrExit = (service: string): CommentsConfig =>
  loadConfigOrExit(service, configSchema);
