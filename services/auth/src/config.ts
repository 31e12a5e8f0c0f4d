import { createPrivateKey, type KeyObject } from 'node:crypto';
import Joi from 'joi';
import {
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

export interface AuthConfig extends BaseConfig, KafkaConfig, TokenVerificationConfig, OutboxConfig {
  /** PostgreSQL cancels a statement of the service's pool running longer than this (0: never). */
  DATABASE_STATEMENT_TIMEOUT_MS: number;
  /** Published outbox rows and processed-event ids are deleted after this many hours. */
  LEDGER_RETENTION_HOURS: number;
  HTTP_PORT: number;
  GRPC_PORT: number;
  DATABASE_URL: string;
  MIGRATE_ON_START: boolean;
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
  DATABASE_URL: databaseUrlKey('postgres://postgres@127.0.0.1:5432/mpb_auth'),
  DATABASE_STATEMENT_TIMEOUT_MS: statementTimeoutKey(),
  ...outboxKeys(),
  LEDGER_RETENTION_HOURS: ledgerRetentionKey(),
  ...kafkaKeys('mpb-auth'),
  MIGRATE_ON_START: migrateOnStartKey(),
  ...tokenVerificationKeys(),
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
  SIGNING_KEY_PEM: Joi.string().custom(ecP256PrivateKey, 'an EC P-256 private key in PEM').optional(),
  OUTBOX_MAX_LAG_SECONDS: outboxMaxLagKey(),
});

/** Refuses anything but a parseable EC P-256 private key, so a bad key fails at start-up, not at signing. */
function ecP256PrivateKey(value: string): string {
  let key: KeyObject;
  try {
    key = createPrivateKey(value);
  } catch {
    throw new Error('must be a PEM private key');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('must be an EC P-256 key');
  }
  return value;
}

/** The one place that reads the environment. */
export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  return loadConfig(configSchema, env);
}

/** For entry points: the configuration, or one line naming every problem and exit code 1. */
export const loadAuthConfigOrExit = (service: string): AuthConfig => loadConfigOrExit(service, configSchema);
