import Joi from 'joi';
import { DEFAULT_TOKEN_AUDIENCE, DEFAULT_TOKEN_ISSUER } from '@mpb/contracts';
import { baseConfigKeys, loadConfig, loadConfigOrExit, secretWithLocalDefault } from '@mpb/service-kit';

export interface PostsConfig {
  NODE_ENV: 'development' | 'test' | 'production';
  LOG_LEVEL: string;
  HOST: string;
  SHUTDOWN_TIMEOUT_MS: number;
  SHUTDOWN_DRAIN_MS: number;
  HTTP_PORT: number;
  GRPC_PORT: number;
  DATABASE_URL: string;
  /** Where auth marks revoked sessions; every access token's session is checked there. */
  REDIS_URL: string;
  /** Comma-separated host:port list. */
  KAFKA_BROKERS: string;
  KAFKA_CLIENT_ID: string;
  MIGRATE_ON_START: boolean;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  /** auth's base URL; its public keys are read from AUTH_URL + /.well-known/jwks.json. */
  AUTH_URL: string;
  /** host:port of the metrics service's gRPC server (likes and views). */
  METRICS_GRPC_ADDR: string;
  /** Longest wait for metrics per request; past it the post is served with the last known counts. */
  METRICS_DEADLINE_MS: number;
  /** /readyz fails when the oldest unpublished outbox event is older than this. */
  OUTBOX_MAX_LAG_SECONDS: number;
}

const HOST_PORT = /^[^\s:,/]+:\d{1,5}$/;

export const configSchema = Joi.object<PostsConfig>({
  ...baseConfigKeys,
  HTTP_PORT: Joi.number().port().default(3002),
  GRPC_PORT: Joi.number().port().default(50052),
  // The URL carries the database credentials, so production must name it.
  DATABASE_URL: secretWithLocalDefault('postgres://postgres@127.0.0.1:5432/mpb_posts').concat(
    Joi.string().uri({ scheme: ['postgres', 'postgresql'] }),
  ),
  REDIS_URL: Joi.string()
    .uri({ scheme: ['redis', 'rediss'] })
    .default('redis://127.0.0.1:6379'),
  KAFKA_BROKERS: Joi.string()
    .pattern(/^[^\s:,]+:\d{1,5}(,[^\s:,]+:\d{1,5})*$/, 'comma-separated host:port list')
    .default('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: Joi.string().default('mpb-posts'),
  MIGRATE_ON_START: Joi.boolean().default(true),
  JWT_ISSUER: Joi.string().default(DEFAULT_TOKEN_ISSUER),
  JWT_AUDIENCE: Joi.string().default(DEFAULT_TOKEN_AUDIENCE),
  AUTH_URL: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .default('http://127.0.0.1:3001'),
  METRICS_GRPC_ADDR: Joi.string().pattern(HOST_PORT, 'host:port').default('127.0.0.1:50055'),
  METRICS_DEADLINE_MS: Joi.number().integer().min(10).max(10_000).default(300),
  OUTBOX_MAX_LAG_SECONDS: Joi.number().integer().min(1).default(60),
});

/** The one place that reads the environment. */
export function loadPostsConfig(env: NodeJS.ProcessEnv = process.env): PostsConfig {
  return loadConfig(configSchema, env);
}

/** For entry points: the configuration, or one line naming every problem and exit code 1. */
export const loadPostsConfigOrExit = (service: string): PostsConfig =>
  loadConfigOrExit(service, configSchema);

/** The JWKS URL: auth's base URL (with or without a trailing slash) plus the well-known path. */
export const jwksUrlOf = (authUrl: string, jwksPath: string): string =>
  `${authUrl.replace(/\/+$/, '')}${jwksPath}`;
