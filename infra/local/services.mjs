// The platform's services, in start order, with their local ports and the environment each needs.
// One table used by `npm start` (fixed ports) and by the end-to-end tests (free ports, test databases).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const SERVICES = [
  { name: 'auth', http: 3001, grpc: 50051, database: 'mpb_auth' },
  { name: 'posts', http: 3002, grpc: 50052, database: 'mpb_posts' },
  { name: 'comments', http: 3003, grpc: 50053, database: 'mpb_comments' },
  { name: 'attachments', http: 3004, grpc: 50054, database: 'mpb_attachments' },
  { name: 'metrics', http: 3005, grpc: 50055, database: 'mpb_metrics' },
  { name: 'gateway', http: 8080, metrics: 9464 },
];

/** Services whose code exists in this checkout; MPB_SERVICES=auth,gateway narrows it (development). */
export const presentServices = (only = process.env.MPB_SERVICES) =>
  SERVICES.filter(
    (s) =>
      existsSync(path.join(REPO_ROOT, 'services', s.name, 'package.json')) &&
      (!only || only.split(',').includes(s.name)),
  );

/**
 * Node flags every service runs with (as NODE_OPTIONS; infra/docker/service.Dockerfile sets the same):
 * V8's young generation capped at 4 MiB per semi-space instead of 16. Under load it otherwise grows
 * to its cap in every process, which took posts, metrics and the gateway past 150 MiB resident after
 * the view and like benchmarks (bench/README.md); capped, they grow less (on a quiet machine posts
 * and metrics still end at 155 and 183 MiB after three rounds). Flags in the caller's
 * NODE_OPTIONS come after these and win.
 */
export const SERVICE_NODE_OPTIONS = '--max-semi-space-size=4';

/**
 * Environment for every service, given the ports in use (`ports[name] = { http, grpc }`),
 * the shared infrastructure env and a database-name suffix (`_test`, `_e2e`).
 */
export function serviceEnv(
  service,
  ports,
  infra,
  { dbSuffix = '', logLevel = 'info', topicPrefix = '', extra = {} } = {},
) {
  const pg = infra.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const env = {
    NODE_OPTIONS: [SERVICE_NODE_OPTIONS, process.env.NODE_OPTIONS].filter(Boolean).join(' '),
    NODE_ENV: infra.NODE_ENV ?? 'development',
    LOG_LEVEL: logLevel,
    HOST: '127.0.0.1',
    HTTP_PORT: String(ports[service.name].http),
    REDIS_URL: infra.REDIS_URL ?? 'redis://127.0.0.1:6379',
    KAFKA_BROKERS: infra.KAFKA_BROKERS ?? '127.0.0.1:9092',
  };
  if (service.grpc) env.GRPC_PORT = String(ports[service.name].grpc);
  if (service.metrics) env.METRICS_PORT = String(ports[service.name].metrics);
  // Kafka topics and consumer groups of their own, so platforms sharing the broker keep apart.
  if (topicPrefix) env.KAFKA_TOPIC_PREFIX = topicPrefix;
  if (service.database) env.DATABASE_URL = `${pg}/${service.database}${dbSuffix}`;
  for (const other of SERVICES) {
    const p = ports[other.name];
    if (!p || other.name === service.name) continue;
    const key = other.name.toUpperCase();
    env[`${key}_URL`] = `http://127.0.0.1:${p.http}`;
    if (other.grpc) env[`${key}_GRPC_ADDR`] = `127.0.0.1:${p.grpc}`;
  }
  for (const k of ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_REGION']) {
    if (infra[k]) env[k] = infra[k];
  }
  // Each database its own key space in the shared bucket: attachments' reconciliation removes objects
  // under its prefix that its database does not know, so `_e2e` must not see the local platform's.
  if (service.name === 'attachments' && dbSuffix) env.S3_KEY_PREFIX = `${dbSuffix.replace(/^_+/, '')}/`;
  return { ...env, ...extra };
}
