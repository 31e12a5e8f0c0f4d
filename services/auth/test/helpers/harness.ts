import { Writable } from 'node:stream';
import type { Express } from 'express';
import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { createLogger, type Logger } from '@mpb/logger';
import {
  createDb,
  createMetrics,
  ensureDatabase,
  migrateLatest,
  type ServiceMetrics,
} from '@mpb/service-kit';
import { migrations } from '../../migrations';
import { loadAuthConfig, type AuthConfig } from '../../src/config';
import { createAuthContext, type AuthContext } from '../../src/context';
import { startEventPipeline, type EventPipeline } from '../../src/events/pipeline';
import { createHttpApp } from '../../src/http/app';
import { readinessChecks } from '../../src/readiness';

/** Addresses come from the environment (CI, infra/local/test.sh); the defaults are the local ones. */
const PG_BASE = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const TEST_DATABASE_URL = process.env.AUTH_TEST_DATABASE_URL ?? `${PG_BASE}/mpb_auth_test`;

export function testConfig(overrides: Record<string, string> = {}): AuthConfig {
  return loadAuthConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    BCRYPT_COST: '10',
    ...overrides,
  });
}

/** Creates and migrates the test database; parallel workers may race on both. */
export async function prepareDatabase(url = TEST_DATABASE_URL): Promise<Knex> {
  await ensureDatabase(url);
  const knex = createDb(url, { max: 5 });
  await migrateLatest(knex, migrations);
  return knex;
}

/** Log lines written by the service under test, to check that no secret ever reaches them. */
export class CapturedLogs {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      this.lines.push(chunk.toString());
      done();
    },
  });
  text(): string {
    return this.lines.join('');
  }
}

export interface TestAuth {
  config: AuthConfig;
  app: Express;
  context: AuthContext;
  knex: Knex;
  redis: Redis;
  events: EventPipeline;
  logger: Logger;
  metrics: ServiceMetrics;
  logs: CapturedLogs;
  close(): Promise<void>;
}

/** The whole service in-process, wired as main.ts wires it, minus the listening ports. */
export async function startTestAuth(overrides: Record<string, string> = {}): Promise<TestAuth> {
  const config = testConfig(overrides);
  const logs = new CapturedLogs();
  const logger = createLogger({ service: 'auth', level: 'debug', destination: logs.stream });
  const metrics = createMetrics('auth');
  const knex = await prepareDatabase(config.DATABASE_URL);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
  const context = await createAuthContext({ settings: config, knex, redis, logger });
  const events = await startEventPipeline({
    clientId: 'auth-test',
    brokers: config.KAFKA_BROKERS,
    knex,
    logger,
    metrics,
  });
  const app = createHttpApp({
    ...context,
    logger,
    metrics,
    readiness: readinessChecks({ knex, redis, events, outboxMaxLagSeconds: config.OUTBOX_MAX_LAG_SECONDS }),
  });
  return {
    config,
    app,
    context,
    knex,
    redis,
    events,
    logger,
    metrics,
    logs,
    async close() {
      await events.relay.stop();
      await events.producer.disconnect();
      await redis.quit();
      await knex.destroy();
    },
  };
}
