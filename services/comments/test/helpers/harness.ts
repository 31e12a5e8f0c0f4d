import type { Express } from 'express';
import type { Knex } from 'knex';
import { Topics } from '@mpb/contracts';
import { createLogger, type Logger } from '@mpb/logger';
import { createMetrics, followSessionRevocations, type ServiceMetrics } from '@mpb/service-kit';
import {
  baseTestEnv,
  prepareTestDatabase,
  type RevocationFeedStandIn,
  startRevocationFeedStandIn,
  testDatabaseUrl,
  TestKeys,
} from '@mpb/test-kit';
import { migrations } from '../../migrations';
import { loadCommentsConfig, type CommentsConfig } from '../../src/config';
import { createCommentsContext, type CommentsContext } from '../../src/context';
import { startEventPipeline, type EventPipeline } from '../../src/events/pipeline';
import { postEventsHandler } from '../../src/events/post-events';
import { GrpcPostDirectory } from '../../src/grpc/post-directory';
import { createHttpApp } from '../../src/http/app';
import { readinessChecks } from '../../src/readiness';
import { suffix } from './factories';
import { startGroupAtEnd, testKafka } from './kafka';

export const TEST_DATABASE_URL = testDatabaseUrl('mpb_comments_test', process.env.COMMENTS_TEST_DATABASE_URL);

export function testConfig(overrides: Record<string, string> = {}): CommentsConfig {
  return loadCommentsConfig({
    ...baseTestEnv(TEST_DATABASE_URL),
    // Each file its own group: parallel files and earlier runs never take each other's messages.
    KAFKA_GROUP_ID: `comments-test-${suffix()}`,
    ...overrides,
  });
}

/** Creates and migrates the test database; parallel workers may race on both. */
export const prepareDatabase = (url = TEST_DATABASE_URL): Promise<Knex> =>
  prepareTestDatabase(url, migrations);

export interface TestCommentsOptions {
  /** host:port of the PostService (the test's stand-in). */
  postsAddress: string;
  /** Start the post-events consumer (its group begins at the topic's current end). */
  consume?: boolean;
  cascadeChunkSize?: number;
  config?: Record<string, string>;
}

export interface TestComments {
  config: CommentsConfig;
  app: Express;
  context: CommentsContext;
  knex: Knex;
  /** auth's revocation feed as the service follows it: `revoke` a session there. */
  revocationFeed: RevocationFeedStandIn;
  events: EventPipeline;
  posts: GrpcPostDirectory;
  tokens: TestKeys;
  logger: Logger;
  metrics: ServiceMetrics;
  close(): Promise<void>;
}

/** The whole service in-process, wired as main.ts wires it, minus the listening ports. */
export async function startTestComments(o: TestCommentsOptions): Promise<TestComments> {
  const revocationFeed = await startRevocationFeedStandIn();
  const config = testConfig({
    POSTS_GRPC_ADDR: o.postsAddress,
    AUTH_GRPC_ADDR: revocationFeed.address,
    ...o.config,
  });
  const logger = createLogger({ service: 'comments', level: config.LOG_LEVEL });
  const metrics = createMetrics('comments');
  const knex = await prepareDatabase(config.DATABASE_URL);
  const revocations = await followSessionRevocations(config.AUTH_GRPC_ADDR, logger);
  const tokens = new TestKeys(config.JWT_ISSUER, config.JWT_AUDIENCE);
  const posts = new GrpcPostDirectory(config.POSTS_GRPC_ADDR, config.POSTS_DEADLINE_MS);
  const context = createCommentsContext({
    settings: config,
    knex,
    revocations,
    logger,
    posts,
    loadKeys: tokens.loadKeys,
    cascadeChunkSize: o.cascadeChunkSize,
  });
  const events = await startEventPipeline({
    clientId: 'comments-test',
    brokers: config.KAFKA_BROKERS,
    groupId: config.KAFKA_GROUP_ID,
    knex,
    logger,
    metrics,
  });
  // Kafka answers in tests: wait for the connection the service makes in the background.
  await events.producer.whenConnected();
  if (o.consume) {
    await startGroupAtEnd(testKafka(), config.KAFKA_GROUP_ID, [Topics.posts]);
    const consumer = await events.startConsumer(
      postEventsHandler({ comments: context.comments, consumer: config.KAFKA_GROUP_ID, logger }),
    );
    await consumer.whenStarted();
  }
  const app = createHttpApp({
    ...context,
    logger,
    metrics,
    readiness: readinessChecks({
      knex,
      events,
      outboxMaxLagSeconds: config.OUTBOX_MAX_LAG_SECONDS,
      consumerMaxStallSeconds: config.CONSUMER_MAX_STALL_SECONDS,
    }),
  });
  return {
    config,
    app,
    context,
    knex,
    revocationFeed,
    events,
    posts,
    tokens,
    logger,
    metrics,
    async close() {
      await events.stop();
      posts.close();
      await revocations.stop();
      await revocationFeed.close();
      await knex.destroy();
    },
  };
}
