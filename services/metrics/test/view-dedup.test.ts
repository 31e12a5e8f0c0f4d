import type { Client } from '@grpc/grpc-js';
import {
  loadMetricsProto,
  type EventEnvelope,
  type MetricsServiceClient,
  type PostCounts,
  type RecordViewRequest,
} from '@mpb/contracts';
import { callUnary, createGrpcClient, type GrpcServer } from '@mpb/service-kit';
import { readTopic, waitFor } from '@mpb/test-kit';
import { createApiContext } from '../src/context';
import { createGrpcServer } from '../src/grpc/server';
import { newId, startTestMetrics, stored, type TestMetrics } from './helpers/harness';

const CALL = { deadlineMs: 10_000 };
const WINDOW = 1800;

let t: TestMetrics;
let server: GrpcServer;
let client: MetricsServiceClient;

beforeAll(async () => {
  t = await startTestMetrics({ env: { VIEW_DEDUP_SECONDS: String(WINDOW) } });
  server = createGrpcServer({ logger: t.logger, metrics: t.metrics, service: t.service });
  const port = await server.listen(0);
  client = createGrpcClient(loadMetricsProto().blog.metrics.v1.MetricsService, `127.0.0.1:${port}`);
});

afterAll(async () => {
  (client as unknown as Client).close();
  await server?.close(1000);
  await t?.close();
});

const view = (post_id: number, viewer_id = 0, viewer_address = '') =>
  callUnary<RecordViewRequest, PostCounts>(
    client,
    client.RecordView,
    { post_id, viewer_id, viewer_address },
    CALL,
  );

const counted = (answers: PostCounts[]) => answers.filter((a) => !a.already_counted).length;

/** The service with another dedup window, on the same Redis, PostgreSQL and Kafka topic. */
function serviceWithWindow(seconds: number) {
  return createApiContext({
    settings: { ...t.config, VIEW_DEDUP_SECONDS: seconds },
    knex: t.knex,
    revocations: t.revocations,
    cache: t.cache,
    posts: t.directory,
    events: t.events,
    logger: t.logger,
    loadKeys: t.keys.loadKeys,
  }).service;
}

describe('view deduplication (VIEW_DEDUP_SECONDS)', () => {
  it('counts 50 racing views of one anonymous client once, publishes one event and folds one view', async () => {
    const postId = newId();
    const reader = await readTopic({
      brokers: t.config.KAFKA_BROKERS,
      clientId: 'metrics-dedup-reader',
      topic: t.config.METRICS_TOPIC,
    });
    let answers: PostCounts[];
    let events: EventEnvelope<unknown>[] = [];
    try {
      answers = await Promise.all(Array.from({ length: 50 }, () => view(postId, 0, '203.0.113.7')));
      const ours = () =>
        reader.received
          .filter((m) => m.key?.toString() === String(postId))
          .map((m) => JSON.parse(m.value!.toString()) as EventEnvelope<unknown>);
      events = await waitFor(async () => (ours().length > 0 ? ours() : undefined), 20_000);
      await t.waitForSync();
      // Anything else published for the post would be in the topic by now.
      events = ours();
    } finally {
      await reader.stop();
    }
    expect(counted(answers)).toBe(1);
    expect(answers.every((a) => Number(a.views) === 1)).toBe(true);
    expect(events).toHaveLength(1);
    expect((await stored(t.knex, postId)).views).toBe(1);
    expect(Number((await view(postId, 0, '203.0.113.7')).views)).toBe(1);
    // The viewer is remembered for the window, next to the post's own keys.
    const ttl = await t.redis.ttl(`${t.config.METRICS_REDIS_PREFIX}{${postId}}:seen:a203.0.113.7`);
    expect(ttl).toBeGreaterThan(WINDOW - 60);
    expect(ttl).toBeLessThanOrEqual(WINDOW);
  });

  it('counts 50 racing views of one signed-in user once, whatever addresses they come from', async () => {
    const postId = newId();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => view(postId, 42, `198.51.100.${i + 1}`)),
    );
    expect(counted(answers)).toBe(1);
    await t.waitForSync();
    expect((await stored(t.knex, postId)).views).toBe(1);
  });

  it('counts different viewers apart: users, addresses, and IPv6 clients by their /64', async () => {
    const postId = newId();
    const viewers: Array<[number, string]> = [
      [7, ''],
      [8, ''],
      [7, '203.0.113.1'], // the same user again
      [0, '203.0.113.1'],
      [0, '203.0.113.2'],
      [0, '::ffff:203.0.113.2'], // the same client as the one before
      [0, '2001:db8:5:6::1'],
      [0, '2001:db8:5:6:aaaa::2'], // the same /64
      [0, '2001:db8:5:7::1'],
    ];
    const answers: PostCounts[] = [];
    for (const [user, address] of viewers) answers.push(await view(postId, user, address));
    expect(answers.map((a) => !a.already_counted)).toEqual([
      true,
      true,
      false,
      true,
      true,
      false,
      true,
      false,
      true,
    ]);
    expect(Number(answers[answers.length - 1]!.views)).toBe(6);
    await t.waitForSync();
    expect((await stored(t.knex, postId)).views).toBe(6);
  });

  it('counts every anonymous view that comes without an address (callers from before the field)', async () => {
    const postId = newId();
    const answers = await Promise.all(Array.from({ length: 5 }, () => view(postId)));
    expect(counted(answers)).toBe(5);
  });

  it('counts a viewer again once the window has passed', async () => {
    const service = serviceWithWindow(1);
    const postId = newId();
    expect((await service.recordView(postId, 0, { address: '203.0.113.50' })).counted).toBe(true);
    expect((await service.recordView(postId, 0, { address: '203.0.113.50' })).counted).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const again = await service.recordView(postId, 0, { address: '203.0.113.50' });
    expect(again).toMatchObject({ counted: true, views: 2 });
  });

  it('counts every view with VIEW_DEDUP_SECONDS=0, exactly, through the fold', async () => {
    const service = serviceWithWindow(0);
    const postId = newId();
    expect(await service.recordView(postId, 0, { address: '203.0.113.9' })).toMatchObject({ views: 1 });
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => service.recordView(postId, 0, { address: '203.0.113.9' })),
    );
    expect(answers.every((a) => a.counted)).toBe(true);
    expect(answers.map((a) => a.views).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 2),
    );
    for (let i = 0; i < 3; i += 1) await service.recordView(postId, 9);
    await t.waitForSync();
    expect((await stored(t.knex, postId)).views).toBe(54);
  });

  it('refuses an impossible address with INVALID_ARGUMENT and counts nothing', async () => {
    const postId = newId();
    await expect(view(postId, 0, 'x'.repeat(65))).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: 'invalid viewer address',
    });
    expect(Number((await view(postId, 0, '203.0.113.60')).views)).toBe(1);
  });
});
