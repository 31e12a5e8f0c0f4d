import type { Express } from 'express';
import type { Knex } from 'knex';
import type { OutboxPipeline } from '@mpb/kafka';
import { createLogger, type Logger } from '@mpb/logger';
import { buildService, type ServiceMetrics } from '@mpb/service-kit';
import { baseTestEnv, CapturedLogs, prepareTestDatabase, testDatabaseUrl } from '@mpb/test-kit';
import { migrations } from '../../migrations';
import { loadAuthConfig, type AuthConfig } from '../../src/config';
import type { AuthContext } from '../../src/context';
import { authService } from '../../src/main';

export const TEST_DATABASE_URL = testDatabaseUrl('mpb_auth_test', process.env.AUTH_TEST_DATABASE_URL);

const testEnv = (overrides: Record<string, string> = {}): Record<string, string> => ({
  ...baseTestEnv(TEST_DATABASE_URL),
  BCRYPT_COST: '10',
  KAFKA_CLIENT_ID: 'auth-test',
  ...overrides,
});

export function testConfig(overrides: Record<string, string> = {}): AuthConfig {
  return loadAuthConfig(testEnv(overrides));
}

/** Creates and migrates the test database; parallel workers may race on both. */
export const prepareDatabase = (url = TEST_DATABASE_URL): Promise<Knex> =>
  prepareTestDatabase(url, migrations);

export interface TestAuth {
  config: AuthConfig;
  app: Express;
  context: AuthContext;
  knex: Knex;
  events: OutboxPipeline;
  logger: Logger;
  metrics: ServiceMetrics;
  logs: CapturedLogs;
  close(): Promise<void>;
}

/** The whole service in-process, built by main.ts's declaration, minus the listening ports. */
export async function startTestAuth(overrides: Record<string, string> = {}): Promise<TestAuth> {
  const logs = new CapturedLogs();
  const logger = createLogger({ service: 'auth', level: 'debug', destination: logs.stream });
  const service = await buildService(authService, { env: testEnv(overrides), logger });
  const { context, knex, events, http } = service.parts;
  // Kafka answers in tests: wait for the connection the service makes in the background.
  await events.producer.whenConnected();
  return {
    config: service.config,
    app: http,
    context,
    knex,
    events,
    logger,
    metrics: service.kit.metrics,
    logs,
    close: () => service.close(),
  };
}
