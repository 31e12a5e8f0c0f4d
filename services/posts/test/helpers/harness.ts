import type { Express } from 'express';
import type { Knex } from 'knex';
import type { OutboxPipeline } from '@mpb/kafka';
import { createLogger, type Logger } from '@mpb/logger';
import { buildService, type BuiltService, type ServiceMetrics } from '@mpb/service-kit';
import {
  baseTestEnv,
  CapturedLogs,
  closedPort,
  laterPort,
  prepareTestDatabase,
  type RevocationFeedStandIn,
  startRevocationFeedStandIn,
  testDatabaseUrl,
  TestKeys,
} from '@mpb/test-kit';
import { migrations } from '../../migrations';
import { loadPostsConfig, type PostsConfig } from '../../src/config';
import type { PostsContext } from '../../src/context';
import { postsService } from '../../src/main';

export const TEST_DATABASE_URL = testDatabaseUrl('mpb_posts_test', process.env.POSTS_TEST_DATABASE_URL);

const testEnv = (overrides: Record<string, string> = {}): Record<string, string> => ({
  ...baseTestEnv(TEST_DATABASE_URL),
  KAFKA_CLIENT_ID: 'posts-test',
  ...overrides,
});

export function testConfig(overrides: Record<string, string> = {}): PostsConfig {
  return loadPostsConfig(testEnv(overrides));
}

/** Creates and migrates the test database; parallel workers may race on both. */
export const prepareDatabase = (url = TEST_DATABASE_URL): Promise<Knex> =>
  prepareTestDatabase(url, migrations);

export { closedPort, laterPort };

export interface AppVariant {
  app: Express;
  context: PostsContext;
  logs: CapturedLogs;
}

export interface TestPosts {
  config: PostsConfig;
  app: Express;
  context: PostsContext;
  knex: Knex;
  /** auth's revocation feed as the service follows it: `revoke` a session there. */
  revocationFeed: RevocationFeedStandIn;
  events: OutboxPipeline;
  logger: Logger;
  metrics: ServiceMetrics;
  logs: CapturedLogs;
  keys: TestKeys;
  /** An access token for this user, signed with the test key the verifier trusts. */
  tokenFor(userId: number, sessionId?: string): string;
  /** Another instance of the service on the same database, talking to another metrics address (or deadline). */
  appWith(o: { metricsAddr: string; metricsDeadlineMs?: number }): Promise<AppVariant>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Metrics' gRPC address; by default a port nothing listens on. */
  metricsAddr?: string;
  metricsDeadlineMs?: number;
  /** Kafka's address; by default the local broker. The service does not wait for another one. */
  kafkaBrokers?: string;
  /**
   * A database of the test's own instead of the shared one: the outbox relay of every test file
   * publishes every unpublished row of the database it uses, so a test that needs rows to stay
   * unpublished (Kafka unreachable for this service only) must not share its outbox.
   */
  databaseUrl?: string;
}

/** The whole service in-process, built by main.ts's declaration, minus the listening ports. */
export async function startTestPosts(o: StartOptions = {}): Promise<TestPosts> {
  const revocationFeed = await startRevocationFeedStandIn();
  const env = testEnv({
    AUTH_GRPC_ADDR: revocationFeed.address,
    METRICS_GRPC_ADDR: o.metricsAddr ?? `127.0.0.1:${await closedPort()}`,
    ...(o.metricsDeadlineMs ? { METRICS_DEADLINE_MS: String(o.metricsDeadlineMs) } : {}),
    ...(o.kafkaBrokers ? { KAFKA_BROKERS: o.kafkaBrokers } : {}),
    ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {}),
  });
  const config = loadPostsConfig(env);
  const keys = new TestKeys(config.JWT_ISSUER, config.JWT_AUDIENCE);
  const instances: Array<BuiltService<PostsConfig, Awaited<ReturnType<typeof postsService.build>>>> = [];

  const build = async (overrides: Record<string, string>) => {
    const logs = new CapturedLogs();
    const logger = createLogger({ service: 'posts', level: 'debug', destination: logs.stream });
    const service = await buildService(postsService, {
      env: { ...env, ...overrides },
      logger,
      loadKeys: keys.loadKeys,
    });
    instances.push(service);
    return { service, logger, logs };
  };

  const main = await build({});
  const { events, context, knex } = main.service.parts;
  // The local broker answers: wait for the connection the service makes in the background.
  if (!o.kafkaBrokers) await events.producer.whenConnected();
  return {
    config: main.service.config,
    app: main.service.parts.http,
    context,
    knex,
    revocationFeed,
    events,
    logger: main.logger,
    metrics: main.service.kit.metrics,
    logs: main.logs,
    keys,
    tokenFor: (userId, sessionId) => keys.sign(userId, { sessionId }),
    async appWith({ metricsAddr, metricsDeadlineMs }) {
      const variant = await build({
        METRICS_GRPC_ADDR: metricsAddr,
        METRICS_DEADLINE_MS: String(metricsDeadlineMs ?? config.METRICS_DEADLINE_MS),
      });
      return { app: variant.service.parts.http, context: variant.service.parts.context, logs: variant.logs };
    },
    async close() {
      for (const instance of instances.reverse()) await instance.close();
      await revocationFeed.close();
    },
  };
}
