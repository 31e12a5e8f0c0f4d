import type { Express } from 'express';
import type { Knex } from 'knex';
import { createLogger, type Logger } from '@mpb/logger';
import { createMetrics, followSessionRevocations, type ServiceMetrics } from '@mpb/service-kit';
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
import { createPostsContext, type PostsContext } from '../../src/context';
import { startEventPipeline, type EventPipeline } from '../../src/events/pipeline';
import { createMetricsClient, type MetricsClient } from '../../src/grpc/metrics-client';
import { createHttpApp } from '../../src/http/app';
import { readinessChecks } from '../../src/readiness';

export const TEST_DATABASE_URL = testDatabaseUrl('mpb_posts_test', process.env.POSTS_TEST_DATABASE_URL);

export function testConfig(overrides: Record<string, string> = {}): PostsConfig {
  return loadPostsConfig({
    ...baseTestEnv(TEST_DATABASE_URL),
    ...overrides,
  });
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
  events: EventPipeline;
  logger: Logger;
  metrics: ServiceMetrics;
  logs: CapturedLogs;
  keys: TestKeys;
  /** An access token for this user, signed with the test key the verifier trusts. */
  tokenFor(userId: number, sessionId?: string): string;
  /** Another app over the same clients, talking to another metrics address (or deadline). */
  appWith(o: { metricsAddr: string; metricsDeadlineMs?: number }): AppVariant;
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

/** The whole service in-process, wired as main.ts wires it, minus the listening ports. */
export async function startTestPosts(o: StartOptions = {}): Promise<TestPosts> {
  const revocationFeed = await startRevocationFeedStandIn();
  const config = testConfig({
    AUTH_GRPC_ADDR: revocationFeed.address,
    METRICS_GRPC_ADDR: o.metricsAddr ?? `127.0.0.1:${await closedPort()}`,
    ...(o.metricsDeadlineMs ? { METRICS_DEADLINE_MS: String(o.metricsDeadlineMs) } : {}),
    ...(o.kafkaBrokers ? { KAFKA_BROKERS: o.kafkaBrokers } : {}),
    ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {}),
  });
  const keys = new TestKeys(config.JWT_ISSUER, config.JWT_AUDIENCE);
  const metrics = createMetrics('posts');
  const knex = await prepareDatabase(config.DATABASE_URL);
  const revocations = await followSessionRevocations(
    config.AUTH_GRPC_ADDR,
    createLogger({ service: 'posts', level: 'silent' }),
  );
  const clients: MetricsClient[] = [];

  const events = await startEventPipeline({
    clientId: 'posts-test',
    brokers: config.KAFKA_BROKERS,
    knex,
    logger: createLogger({ service: 'posts', level: 'silent' }),
    metrics,
  });
  // The local broker answers: wait for the connection the service makes in the background.
  if (!o.kafkaBrokers) await events.producer.whenConnected();
  const readiness = readinessChecks({
    knex,
    events,
    outboxMaxLagSeconds: config.OUTBOX_MAX_LAG_SECONDS,
  });

  const build = (metricsAddr: string, deadlineMs: number): AppVariant => {
    const logs = new CapturedLogs();
    const logger = createLogger({ service: 'posts', level: 'debug', destination: logs.stream });
    const client = createMetricsClient({ address: metricsAddr, deadlineMs });
    clients.push(client);
    const context = createPostsContext({
      settings: config,
      knex,
      revocations,
      metricsService: client,
      logger,
      metrics,
      loadKeys: keys.loadKeys,
    });
    return {
      app: createHttpApp({
        ...context,
        logger,
        metrics,
        readiness,
        gatewayTrustProxy: config.GATEWAY_TRUST_PROXY,
      }),
      context,
      logs,
    };
  };

  const main = build(config.METRICS_GRPC_ADDR, config.METRICS_DEADLINE_MS);
  return {
    config,
    app: main.app,
    context: main.context,
    knex,
    revocationFeed,
    events,
    logger: createLogger({ service: 'posts', level: 'debug', destination: main.logs.stream }),
    metrics,
    logs: main.logs,
    keys,
    tokenFor: (userId, sessionId) => keys.sign(userId, { sessionId }),
    appWith: ({ metricsAddr, metricsDeadlineMs }) =>
      build(metricsAddr, metricsDeadlineMs ?? config.METRICS_DEADLINE_MS),
    async close() {
      for (const client of clients) client.close();
      await events.relay.stop();
      await events.producer.disconnect();
      await revocations.stop();
      await revocationFeed.close();
      await knex.destroy();
    },
  };
}
