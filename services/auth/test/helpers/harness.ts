import type { Express } from 'express';
import type { Knex } from 'knex';
import { createLogger, type Logger } from '@mpb/logger';
import { createMetrics, type ServiceMetrics } from '@mpb/service-kit';
import { baseTestEnv, CapturedLogs, prepareTestDatabase, testDatabaseUrl } from '@mpb/test-kit';
import { migrations } from '../../migrations';
import { loadAuthConfig, type AuthConfig } from '../../src/config';
import { createAuthContext, type AuthContext } from '../../src/context';
import { startEventPipeline, type EventPipeline } from '../../src/events/pipeline';
import { createHttpApp } from '../../src/http/app';
import { readinessChecks } from '../../src/readiness';

export const TEST_DATABASE_URL = testDatabaseUrl('mpb_auth_test', process.env.AUTH_TEST_DATABASE_URL);

export function testConfig(overrides: Record<string, string> = {}): AuthConfig {
  return loadAuthConfig({
    ...baseTestEnv(TEST_DATABASE_URL),
    BCRYPT_COST: '10',
    ...overrides,
  });
}

/** Creates and migrates the test database; parallel workers may race on both. */
export const prepareDatabase = (url = TEST_DATABASE_URL): Promise<Knex> =>
  prepareTestDatabase(url, migrations);

export interface TestAuth {
  config: AuthConfig;
  app: Express;
  context: AuthContext;
  knex: Knex;
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
  const context = await createAuthContext({ settings: config, knex, logger });
  const events = await startEventPipeline({
    clientId: 'auth-test',
    brokers: config.KAFKA_BROKERS,
    knex,
    logger,
    metrics,
  });
  // Kafka answers in tests: wait for the connection the service makes in the background.
  await events.producer.whenConnected();
  const app = createHttpApp({
    ...context,
    logger,
    metrics,
    readiness: readinessChecks({ knex, events, outboxMaxLagSeconds: config.OUTBOX_MAX_LAG_SECONDS }),
  });
  return {
    config,
    app,
    context,
    knex,
    events,
    logger,
    metrics,
    logs,
    async close() {
      await events.relay.stop();
      await events.producer.disconnect();
      await knex.destroy();
    },
  };
}
