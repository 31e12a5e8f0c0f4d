import { randomBytes, randomInt } from 'node:crypto';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import type { Knex } from 'knex';
import { createEnvelope, deadLetterTopicOf, EventTypes, type EventEnvelope } from '@mpb/contracts';
import { fetchTopicOffsets, parseBrokers, type EventConsumer, type KafkaClient } from '@mpb/kafka';
import { createLogger, type Logger } from '@mpb/logger';
import { buildService, type ServiceMetrics, type SessionRevocations } from '@mpb/service-kit';
import {
  baseTestEnv,
  prepareTestDatabase,
  type RevocationFeedStandIn,
  startRevocationFeedStandIn,
  testDatabaseUrl,
  TestKeys,
  waitFor,
} from '@mpb/test-kit';
import { migrations } from '../../migrations';
import { loadMetricsConfig, type MetricsConfig } from '../../src/config';
import type { RedisCounterCache } from '../../src/data/redis-counter-cache';
import type { MetricsService } from '../../src/domain/metrics-service';
import type { MetricEventsProducer } from '../../src/events/producer';
import type { GrpcPostDirectory } from '../../src/grpc/posts-directory';
import { metricsService } from '../../src/main';
import { PostsStandIn } from './posts-stand-in';

/** Addresses come from the environment (CI, infra/local/test.sh); the defaults are the local ones. */
export const TEST_DATABASE_URL = testDatabaseUrl('mpb_metrics_test', process.env.METRICS_TEST_DATABASE_URL);
const BASE_ENV = baseTestEnv(TEST_DATABASE_URL);
export const BROKERS = BASE_ENV.KAFKA_BROKERS!;

/**
 * The shared Redis is shared with colleagues and other suites: metrics' tests use their own database
 * indexes, 12 for everything and 13 for the one suite that flushes, plus a unique key prefix per run.
 */
function redisDb(index: number): string {
  const url = new URL(BASE_ENV.REDIS_URL!);
  url.pathname = `/${index}`;
  return url.toString();
}
export const TEST_REDIS_URL = process.env.METRICS_TEST_REDIS_URL ?? redisDb(12);
export const FLUSHABLE_REDIS_URL = process.env.METRICS_TEST_FLUSHABLE_REDIS_URL ?? redisDb(13);

export const suffix = (): string => randomBytes(4).toString('hex');
/** Post and user ids nobody else uses: large and random. */
export const newId = (): number => randomInt(1_000_000_000, 2 ** 47);

const testEnv = (overrides: Record<string, string> = {}): Record<string, string> => ({
  ...BASE_ENV,
  REDIS_URL: TEST_REDIS_URL,
  KAFKA_SESSION_TIMEOUT_MS: '6000',
  // Tests wait for every fold: no fetch waits for more data.
  METRICS_FETCH_MIN_BYTES: '1',
  ...overrides,
});

export function testConfig(overrides: Record<string, string> = {}): MetricsConfig {
  return loadMetricsConfig(testEnv(overrides));
}

/** Creates and migrates the test database; parallel workers may race on both. */
export const prepareDatabase = (url = TEST_DATABASE_URL): Promise<Knex> =>
  prepareTestDatabase(url, migrations);

/** kafkajs directly, as another client of the topics would use it: raw messages, offsets. */
export class KafkaTool {
  readonly kafka = new Kafka({
    clientId: `metrics-test-${suffix()}`,
    brokers: parseBrokers(BROKERS),
    logLevel: logLevel.NOTHING,
  });
  private admin: Admin | undefined;
  private producer: Producer | undefined;

  async connect(): Promise<this> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
    await this.producer.connect();
    return this;
  }

  async send(topic: string, messages: Array<{ key: string; value: string }>): Promise<void> {
    for (let i = 0; i < messages.length; i += 1000) {
      await this.producer!.send({ topic, acks: -1, messages: messages.slice(i, i + 1000) });
    }
  }

  /** Envelopes as metrics (or posts) would publish them, keyed by post id. */
  sendEvents(topic: string, events: EventEnvelope<unknown>[]): Promise<void> {
    return this.send(
      topic,
      events.map((e) => ({ key: e.aggregate_id, value: JSON.stringify(e) })),
    );
  }

  /** End offsets of the topic's partitions. */
  async highs(topic: string): Promise<Map<number, number>> {
    const offsets = await fetchTopicOffsets(this.kafka, topic);
    return new Map(offsets.map((p) => [p.partition, Number(p.high)]));
  }

  /** The group's committed offsets on the topic (-1: nothing committed). */
  async committed(groupId: string, topic: string): Promise<Map<number, number>> {
    const [entry] = await this.admin!.fetchOffsets({ groupId, topics: [topic] });
    return new Map((entry?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  }

  /** Resolves once the group has committed everything produced to the topic so far. */
  async waitForGroup(groupId: string, topic: string, timeoutMs = 30_000): Promise<void> {
    const highs = await this.highs(topic);
    await waitFor(async () => {
      const committed = await this.committed(groupId, topic);
      for (const [partition, high] of highs) {
        if (high > 0 && (committed.get(partition) ?? -1) < high) return undefined;
      }
      return true;
    }, timeoutMs);
  }

  /** Deletes topics (and their dead-letter twins) a test created for itself. */
  async deleteTopics(topics: string[]): Promise<void> {
    await this.admin!.deleteTopics({ topics: topics.flatMap((t) => [t, deadLetterTopicOf(t)]) }).catch(
      () => undefined,
    );
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
    await this.admin?.disconnect();
  }
}

export const postDeleted = (postId: number): EventEnvelope<unknown> =>
  createEnvelope({
    type: EventTypes.PostDeleted,
    aggregateType: 'post',
    aggregateId: postId,
    payload: { id: postId, user_id: 1, deleted_at: new Date().toISOString() },
    source: 'posts',
  });

export interface StartOptions {
  /** Environment overrides (topics, groups, prefix, Redis and database URLs, batch size, max lag). */
  env?: Record<string, string>;
  /** Run the consumers in-process (default true). */
  consumers?: boolean;
  /** The posts service stand-in; a fresh one by default. */
  posts?: PostsStandIn;
}

export interface TestMetrics {
  config: MetricsConfig;
  app: Express;
  service: MetricsService;
  cache: RedisCounterCache;
  knex: Knex;
  redis: Redis;
  /** auth's revocation feed as the service follows it: `revoke` a session there. */
  revocationFeed: RevocationFeedStandIn;
  /** The service's copy of the feed. */
  revocations: SessionRevocations;
  kafka: KafkaClient;
  events: MetricEventsProducer;
  posts: PostsStandIn;
  directory: GrpcPostDirectory;
  tool: KafkaTool;
  keys: TestKeys;
  logger: Logger;
  metrics: ServiceMetrics;
  consumers: EventConsumer[];
  /** An access token of this user, signed with the key the verifier trusts. */
  tokenFor(userId: number, sessionId?: string): string;
  startConsumers(): Promise<void>;
  stopConsumers(): Promise<void>;
  /** Resolves once both consumers have folded everything published so far. */
  waitForSync(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** The whole service in-process, built by main.ts's declaration (role `all`), minus the listening ports. */
export async function startTestMetrics(o: StartOptions = {}): Promise<TestMetrics> {
  const id = suffix();
  const revocationFeed = await startRevocationFeedStandIn();
  const posts = o.posts ?? (await new PostsStandIn().start());
  const env = testEnv({
    AUTH_GRPC_ADDR: revocationFeed.address,
    POSTS_GRPC_ADDR: posts.address,
    KAFKA_CLIENT_ID: `metrics-test-${id}`,
    METRICS_TOPIC: `test.metrics.${id}`,
    POSTS_TOPIC: `test.posts.${id}`,
    METRICS_CONSUMER_GROUP: `metrics-test-${id}`,
    POSTS_CONSUMER_GROUP: `metrics-test-deletions-${id}`,
    METRICS_REDIS_PREFIX: `metrics-test-${id}:`,
    ...o.env,
  });
  const config = loadMetricsConfig(env);
  const logger = createLogger({ service: 'metrics', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const keys = new TestKeys(config.JWT_ISSUER, config.JWT_AUDIENCE);
  const built = await buildService(metricsService, { env, logger, loadKeys: keys.loadKeys });
  const { api, knex, redis, cache, consumerSpecs } = built.parts;
  const kafka = built.kit.kafka();
  await api!.events.producer.whenConnected();
  const tool = await new KafkaTool().connect();

  // The service's own consumers first (its /readyz checks them); fresh ones after a stop, as a restart makes.
  const consumers: EventConsumer[] = [];
  let declared: EventConsumer[] | undefined = built.parts.consumers;
  const startConsumers = async (): Promise<void> => {
    const deps = {
      kafka,
      logger,
      metrics: built.kit.kafkaMetrics(),
      // A consumer kafkajs gives up on fails the test that runs it.
      onFatal: (err: Error) => {
        throw err;
      },
    };
    const fresh = declared ?? consumerSpecs.map((spec) => spec.make(deps));
    declared = undefined;
    consumers.splice(0, consumers.length, ...fresh);
    for (const consumer of fresh) await consumer.start();
  };
  const stopConsumers = async (): Promise<void> => {
    for (const consumer of consumers) await consumer.stop();
  };
  if (o.consumers ?? true) await startConsumers();

  return {
    config,
    app: built.parts.http,
    service: api!.service,
    cache,
    knex,
    redis,
    revocationFeed,
    revocations: api!.revocations,
    kafka,
    events: api!.events,
    posts,
    directory: api!.posts,
    tool,
    keys,
    logger,
    metrics: built.kit.metrics,
    consumers,
    tokenFor: (userId, sessionId) => keys.sign(userId, { sessionId }),
    startConsumers,
    stopConsumers,
    async waitForSync(timeoutMs = 30_000) {
      await tool.waitForGroup(config.METRICS_CONSUMER_GROUP, config.METRICS_TOPIC, timeoutMs);
      await tool.waitForGroup(config.POSTS_CONSUMER_GROUP, config.POSTS_TOPIC, timeoutMs);
    },
    async close() {
      await stopConsumers();
      await deleteKeys(redis, `${config.METRICS_REDIS_PREFIX}*`);
      await built.close();
      await tool.deleteTopics([config.METRICS_TOPIC, config.POSTS_TOPIC]);
      await tool.close();
      await revocationFeed.close();
      if (!o.posts) await posts.stop();
    },
  };
}

/** Removes this run's keys from the test database (SCAN, so Redis is never blocked). */
async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** What PostgreSQL holds for a post: folded views, the likes count and the rows behind it. */
export async function stored(
  knex: Knex,
  postId: number,
): Promise<{ views: number; likes: number; likeRows: number; likers: number[] }> {
  const counters = await knex('post_counters').first('views', 'likes').where({ post_id: postId });
  const rows = await knex('post_likes')
    .select('user_id')
    .where({ post_id: postId, liked: true })
    .orderBy('user_id');
  return {
    views: Number(counters?.views ?? 0),
    likes: Number(counters?.likes ?? 0),
    likeRows: rows.length,
    likers: rows.map((r: { user_id: string }) => Number(r.user_id)),
  };
}
