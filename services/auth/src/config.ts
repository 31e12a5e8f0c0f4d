import Joi from 'joi';
import { DEFAULT_TOKEN_AUDIENCE, DEFAULT_TOKEN_ISSUER } from '@mpb/contracts';
import { baseConfigKeys, loadConfig, loadConfigOrExit, secretWithLocalDefault } from '@mpb/service-kit';

export interface AuthConfig {
  NODE_ENV: 'development' | 'test' | 'production';
  LOG_LEVEL: string;
  HOST: string;
  SHUTDOWN_TIMEOUT_MS: number;
  SHUTDOWN_DRAIN_MS: number;
  HTTP_PORT: number;
  GRPC_PORT: number;
  DATABASE_URL: string;
  REDIS_URL: string;
  /** Comma-separated host:port list. */
  KAFKA_BROKERS: string;
  KAFKA_CLIENT_ID: string;
  MIGRATE_ON_START: boolean;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  ACCESS_TOKEN_TTL_SECONDS: number;
  REFRESH_TOKEN_TTL_SECONDS: number;
  BCRYPT_COST: number;
  /** PKCS#8 PEM of an EC P-256 key; when absent, auth generates one and keeps it in its database. */
  SIGNING_KEY_PEM?: string;
  /** /readyz fails when the oldest unpublished outbox event is older than this. */
  OUTBOX_MAX_LAG_SECONDS: number;
}

const THIRTY_DAYS = 30 * 24 * 60 * 60;

export const configSchema = Joi.object<AuthConfig>({
  ...baseConfigKeys,
  HTTP_PORT: Joi.number().port().default(3001),
  GRPC_PORT: Joi.number().port().default(50051),
  // The URL carries the database credentials, so production must name it.
  DATABASE_URL: secretWithLocalDefault('postgres://postgres@127.0.0.1:5432/mpb_auth').concat(
    Joi.string().uri({ scheme: ['postgres', 'postgresql'] }),
  ),
  REDIS_URL: Joi.string()
    .uri({ scheme: ['redis', 'rediss'] })
    .default('redis://127.0.0.1:6379'),
  KAFKA_BROKERS: Joi.string()
    .pattern(/^[^\s:,]+:\d{1,5}(,[^\s:,]+:\d{1,5})*$/, 'comma-separated host:port list')
    .default('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: Joi.string().default('mpb-auth'),
  MIGRATE_ON_START: Joi.boolean().default(true),
  JWT_ISSUER: Joi.string().default(DEFAULT_TOKEN_ISSUER),
  JWT_AUDIENCE: Joi.string().default(DEFAULT_TOKEN_AUDIENCE),
  ACCESS_TOKEN_TTL_SECONDS: Joi.number()
    .integer()
    .min(30)
    .max(24 * 60 * 60)
    .default(900),
  REFRESH_TOKEN_TTL_SECONDS: Joi.number()
    .integer()
    .min(60)
    .max(365 * 24 * 60 * 60)
    .default(THIRTY_DAYS),
  BCRYPT_COST: Joi.number().integer().min(10).max(15).default(10),
  SIGNING_KEY_PEM: Joi.string()
    .pattern(/-----BEGIN PRIVATE KEY-----/, 'PKCS#8 PEM')
    .optional(),
  OUTBOX_MAX_LAG_SECONDS: Joi.number().integer().min(1).default(60),
});

/** The one place that reads the environment. */
export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  return loadConfig(configSchema, env);
}

/** For entry points: the configuration, or one line naming every problem and exit code 1. */
export const loadAuthConfigOrExit = (service: string): AuthConfig => loadConfigOrExit(service, configSchema);
