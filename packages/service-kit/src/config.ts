import Joi from 'joi';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment once, at start-up, and names every missing or bad key at once.
 * Validate, never transform: the schema's defaults are the zero-config local values.
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

/** Keys every service has. Services extend this with their own. */
export const baseConfigKeys = {
  NODE_ENV: Joi.string().valid('development', 'test', 'production').default('development'),
  LOG_LEVEL: Joi.string().valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent').default('info'),
  HOST: Joi.string().default('127.0.0.1'),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(0).max(120000).default(10000),
  /** Seconds to keep serving after SIGTERM before closing, so load balancers stop sending first. */
  SHUTDOWN_DRAIN_MS: Joi.number().integer().min(0).max(60000).default(0),
};

/** A secret that has a local default must be set explicitly in production. */
export const secretWithLocalDefault = (localDefault: string) =>
  Joi.string().when('NODE_ENV', {
    is: 'production',
    then: Joi.required(),
    otherwise: Joi.optional().default(localDefault),
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
