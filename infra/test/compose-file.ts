import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './service-config';

export interface ComposeService {
  image?: string;
  build?: { args?: Record<string, string> };
  environment?: Record<string, unknown>;
  ports?: string[];
  healthcheck?: unknown;
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
}

export const readCompose = (file = 'docker-compose.yml'): ComposeFile =>
  parse(readFileSync(path.join(ROOT, file), 'utf8'), { merge: true }) as ComposeFile;

/** `${VAR:-default}` and `${VAR:?msg}` as compose resolves them with nothing set. */
export const interpolate = (v: unknown): string =>
  String(v).replace(
    /\$\{[A-Z0-9_]+(?::?-([^}]*))?(?::\?[^}]*)?\}/g,
    (_m, def: string | undefined) => def ?? 'set-by-operator',
  );

/** The environment compose gives `service`, interpolated as with nothing set. */
export const composeEnv = (compose: ComposeFile, service: string): Record<string, string> =>
  Object.fromEntries(
    Object.entries(compose.services[service]?.environment ?? {}).map(([k, v]) => [k, interpolate(v)]),
  );
