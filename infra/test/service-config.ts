import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type Joi from 'joi';

export const ROOT = path.resolve(__dirname, '../..');

/** Every deployable under services/. */
export const SERVICES = readdirSync(path.join(ROOT, 'services')).filter((s) =>
  existsSync(path.join(ROOT, 'services', s, 'package.json')),
);

function schemaOf(service: string): Joi.ObjectSchema {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- each service's own config module
  const mod = require(path.join(ROOT, 'services', service, 'src/config')) as {
    configSchema?: Joi.ObjectSchema;
  };
  if (!mod.configSchema) throw new Error(`services/${service}/src/config.ts exports no configSchema`);
  return mod.configSchema;
}

/**
 * The environment a descriptor gives `service` passes its own config schema. `own` are the keys set
 * for this service alone: each must be one its config knows (no typos).
 */
export function checkEnv(service: string, env: Record<string, string>, own: string[] = Object.keys(env)) {
  const schema = schemaOf(service);
  const known = new Set(Object.keys(schema.describe().keys ?? {}));
  const unknown = own.filter((k) => !known.has(k));
  expect({ service, unknown }).toEqual({ service, unknown: [] });
  const { error } = schema.validate(env, { abortEarly: false, allowUnknown: true });
  expect({ service, problems: error?.details.map((d) => d.message) ?? [] }).toEqual({
    service,
    problems: [],
  });
}
