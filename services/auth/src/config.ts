import { createPrivateKey, type KeyObject } from 'node:crypto';
import Joi from 'joi';
import {
  loadConfig,
  publishingKeys,
  type PublishingConfig,
  serviceKeys,
  type ServiceConfig,
  tokenVerificationKeys,
  type TokenVerificationConfig,
} from '@mpb/service-kit';

export interface AuthConfig extends ServiceConfig, TokenVerificationConfig, PublishingConfig {
  ACCESS_TOKEN_TTL_SECONDS: number;
  REFRESH_TOKEN_TTL_SECONDS: number;
  BCRYPT_COST: number;
  /** PKCS#8 PEM of an EC P-256 key; when absent, auth generates one and keeps it in its database. */
  SIGNING_KEY_PEM?: string;
}

const THIRTY_DAYS = 30 * 24 * 60 * 60;

export const configSchema = Joi.object<AuthConfig>({
  ...serviceKeys({ name: 'auth', httpPort: 3001, grpcPort: 50051 }),
  ...publishingKeys(),
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
