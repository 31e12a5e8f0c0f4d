import type { Express } from 'express';
import type { Knex } from 'knex';
import { Topics } from '@mpb/contracts';
import type { EventConsumer, OutboxPipeline } from '@mpb/kafka';
import type { Logger } from '@mpb/logger';
import { buildService, type ServiceMetrics } from '@mpb/service-kit';
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
import type { CommentsContext } from '../../src/context';
import type { GrpcPostDirectory } from '../../src/grpc/post-directory';
import { commentsService } from '../../src/main';
import { suffix } from './factories';
import { startGroupAtEnd, testKafka } from './kafka';

export const TEST_DATABASE_URL = testDatabaseUrl('mpb_comments_test', process.env.COMMENTS_TEST_DATABASE_URL);

const testEnv = (overrides: Record<string, string> = {}): Record<string, string> => ({
  ...baseTestEnv(TEST_DATABASE_URL),
  KAFKA_CLIENT_ID: 'comments-test',
  // Each file its own group: parallel files and earlier runs never take each other's messages.
  KAFKA_GROUP_ID: `comments-test-${suffix()}`,
  ...overrides,
});

export function testConfig(overrides: Record<string, string> = {}): CommentsConfig {
  return loadCommentsConfig(testEnv(overrides));
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
  /** The outbox and the post-events consumer (started with `consume`). */
  events: OutboxPipeline & { consumer: EventConsumer };
  posts: GrpcPostDirectory;
  tokens: TestKeys;
  logger: Logger;
  metrics: ServiceMetrics;
  close(): Promise<void>;
}

/** The whole service in-process, built by main.ts's declaration, minus the listening ports. */
export async function startTestComments(o: TestCommentsOptions): Promise<TestComments> {
  const revocationFeed = await startRevocationFeedStandIn();
  const env = testEnv({
    POSTS_GRPC_ADDR: o.postsAddress,
    AUTH_GRPC_ADDR: revocationFeed.address,
    ...o.config,
  });
  const config = loadCommentsConfig(env);
  const tokens = new TestKeys(config.JWT_ISSUER, config.JWT_AUDIENCE);
  const service = await buildService(commentsService({ cascadeChunkSize: o.cascadeChunkSize }), {
    env,
    loadKeys: tokens.loadKeys,
  });
  const { context, knex, events, posts, http } = service.parts;
  // Kafka answers in tests: wait for the connection the service makes in the background.
  await events.producer.whenConnected();
  if (o.consume) {
    await startGroupAtEnd(testKafka(), config.KAFKA_GROUP_ID, [Topics.posts]);
    service.start();
    await events.consumer.whenStarted();
  }
  return {
    config: service.config,
    app: http,
    context,
    knex,
    revocationFeed,
    events,
    posts,
    tokens,
    logger: service.kit.logger,
    metrics: service.kit.metrics,
    async close() {
      await service.close();
      await revocationFeed.close();
    },
  };
}
