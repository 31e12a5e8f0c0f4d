import { Metadata, type Client } from '@grpc/grpc-js';
import request from 'supertest';
import {
  loadHealthProto,
  loadMetricsProto,
  type GetCountsRequest,
  type GetCountsResponse,
  type HealthClient,
  type MetricsServiceClient,
  type PostCounts,
  type RecordViewRequest,
  type RecordViewsRequest,
  type RecordViewsResponse,
} from '@mpb/contracts';
import { callUnary, createGrpcClient, type GrpcServer } from '@mpb/service-kit';
import { readTopic, waitFor } from '@mpb/test-kit';
import { createGrpcServer, METRICS_SERVICE } from '../src/grpc/server';
import { newId, startTestMetrics, stored, type TestMetrics } from './helpers/harness';

const CALL = { deadlineMs: 10_000 };

/** The event continues the call's trace as a child of metrics' own span of the call. */
const childOf = (traceparent: string): unknown =>
  expect.stringMatching(
    new RegExp(`^00-${traceparent.slice(3, 35)}-(?!${traceparent.slice(36, 52)})[0-9a-f]{16}-01$`),
  );

let t: TestMetrics;
let server: GrpcServer;
let client: MetricsServiceClient;
let health: HealthClient;

beforeAll(async () => {
  t = await startTestMetrics();
  server = createGrpcServer({ logger: t.logger, metrics: t.metrics, service: t.service });
  const port = await server.listen(0);
  client = createGrpcClient(loadMetricsProto().blog.metrics.v1.MetricsService, `127.0.0.1:${port}`);
  health = createGrpcClient(loadHealthProto().grpc.health.v1.Health, `127.0.0.1:${port}`);
});

afterAll(async () => {
  (client as unknown as Client).close();
  (health as unknown as Client).close();
  await server.close(1000);
  await t.close();
});

const recordView = (post_id: number, viewer_id = 0) =>
  callUnary<RecordViewRequest, PostCounts>(client, client.RecordView, { post_id, viewer_id }, CALL);
const getCounts = (post_ids: number[], viewer_id = 0) =>
  callUnary<GetCountsRequest, GetCountsResponse>(client, client.GetCounts, { post_ids, viewer_id }, CALL);

describe('RecordView', () => {
  it('counts the view and answers counts that include it', async () => {
    const postId = newId();
    expect(await recordView(postId)).toEqual({
      post_id: postId,
      likes: 0,
      views: 1,
      liked_by_viewer: false,
      already_counted: false,
    });
    expect((await recordView(postId, 5)).views).toBe(2);
    const views = await Promise.all(Array.from({ length: 20 }, () => recordView(postId)));
    expect(views.map((v) => Number(v.views)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 3),
    );
    await t.waitForSync();
    expect((await stored(t.knex, postId)).views).toBe(22);
    expect((await recordView(postId)).views).toBe(23);
  });

  it('publishes post.viewed keyed by post id, continuing the caller trace as a child of the call', async () => {
    const postId = newId();
    const traceparent = `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`;
    const metadata = new Metadata();
    metadata.set('traceparent', traceparent);
    await new Promise<void>((resolve, reject) =>
      client.RecordView(
        { post_id: postId, viewer_id: 3 },
        metadata,
        { deadline: Date.now() + 10_000 },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    const reader = await readTopic({
      brokers: t.config.KAFKA_BROKERS,
      clientId: 'metrics-viewed-reader',
      topic: t.config.METRICS_TOPIC,
    });
    const ours = () =>
      reader.received
        .filter((m) => m.key?.toString() === String(postId))
        .map((m) => JSON.parse(m.value!.toString()) as Record<string, unknown>);
    let seen: Array<Record<string, unknown>> = [];
    try {
      seen = await waitFor(async () => (ours().length > 0 ? ours() : undefined), 20_000);
    } finally {
      await reader.stop();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      type: 'post.viewed',
      version: 1,
      source: 'metrics',
      aggregate_type: 'post',
      aggregate_id: String(postId),
      trace: { traceparent: childOf(traceparent) },
      payload: { post_id: postId, viewer_id: 3, views: 1, epoch: expect.any(Number) },
    });
  });

  it('refuses impossible ids', async () => {
    await expect(recordView(0)).rejects.toMatchObject({ code: 'BAD_REQUEST', message: 'invalid post id' });
    await expect(recordView(newId(), -1)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('RecordViews', () => {
  const recordViews = (views: RecordViewRequest[]) =>
    callUnary<RecordViewsRequest, RecordViewsResponse>(client, client.RecordViews, { views }, CALL);

  it('counts each view as RecordView would and answers each in its own result, in order', async () => {
    const postId = newId();
    // Counted once first, so its snapshot is in Redis (views racing a cold post's refill are all
    // answered the count after the refill, with one call or many).
    await recordView(postId);
    const gone = newId();
    await recordView(gone);
    await t.cache.forgetPost(gone);
    const { results } = await recordViews([
      ...Array.from({ length: 30 }, () => ({ post_id: postId, viewer_id: 0 })),
      { post_id: 0, viewer_id: 0 },
      { post_id: gone, viewer_id: 0 },
      { post_id: postId, viewer_id: 4 },
    ]);
    expect(results).toHaveLength(33);
    const counted = [...results!.slice(0, 30), results![32]!];
    expect(counted.map((r) => Number(r.counts?.views)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 31 }, (_, i) => i + 2),
    );
    expect(counted.every((r) => r.counts?.post_id === postId && r.error_code === '')).toBe(true);
    expect(results![30]).toMatchObject({ error_code: 'BAD_REQUEST', error_message: 'invalid post id' });
    expect(results![31]).toMatchObject({ error_code: 'NOT_FOUND', error_message: 'post not found' });
    expect(results![31]!.counts).toBeNull();
    await t.waitForSync();
    expect((await stored(t.knex, postId)).views).toBe(32);
  });

  it("publishes each view's event continuing its own reader's trace", async () => {
    const [a, b] = [newId(), newId()];
    const traceOf = (c: string) => `00-${c.repeat(32)}-${'e'.repeat(16)}-01`;
    await recordViews([
      { post_id: a, viewer_id: 0, traceparent: traceOf('a') },
      { post_id: b, viewer_id: 0, traceparent: traceOf('b') },
    ]);
    const reader = await readTopic({
      brokers: t.config.KAFKA_BROKERS,
      clientId: 'metrics-viewed-reader-batch',
      topic: t.config.METRICS_TOPIC,
    });
    const traces = () =>
      reader.received
        .map(
          (m) => JSON.parse(m.value!.toString()) as { aggregate_id: string; trace: { traceparent?: string } },
        )
        .filter((e) => e.aggregate_id === String(a) || e.aggregate_id === String(b));
    let seen: ReturnType<typeof traces> = [];
    try {
      seen = await waitFor(async () => (traces().length >= 2 ? traces() : undefined), 20_000);
    } finally {
      await reader.stop();
    }
    expect(Object.fromEntries(seen.map((e) => [e.aggregate_id, e.trace.traceparent]))).toEqual({
      [String(a)]: traceOf('a'),
      [String(b)]: traceOf('b'),
    });
    // And the consumer folds them (an event it refused would be parked, never counted).
    await t.waitForSync();
    expect([(await stored(t.knex, a)).views, (await stored(t.knex, b)).views]).toEqual([1, 1]);
  });

  it('refuses more than 500 views in one call', async () => {
    const views = Array.from({ length: 501 }, () => ({ post_id: newId(), viewer_id: 0 }));
    await expect(recordViews(views)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('GetCounts', () => {
  it('answers many posts in the order asked, once each, with whether the viewer likes them', async () => {
    const [a, b, c] = [newId(), newId(), newId()];
    t.posts.create(a, b, c);
    const viewer = newId();
    const token = t.tokenFor(viewer);
    expect(
      (await request(t.app).post(`/api/posts/${b}/like`).set('authorization', `Bearer ${token}`)).status,
    ).toBe(200);
    expect(
      (
        await request(t.app)
          .post(`/api/posts/${c}/like`)
          .set('authorization', `Bearer ${t.tokenFor(newId())}`)
      ).status,
    ).toBe(200);
    await recordView(a);
    await recordView(a);

    const res = await getCounts([c, a, b, a, 0], viewer);
    expect(res.counts).toEqual([
      { post_id: c, likes: 1, views: 0, liked_by_viewer: false, already_counted: false },
      { post_id: a, likes: 0, views: 2, liked_by_viewer: false, already_counted: false },
      { post_id: b, likes: 1, views: 0, liked_by_viewer: true, already_counted: false },
    ]);
    const anonymous = await getCounts([b]);
    expect(anonymous.counts).toEqual([
      { post_id: b, likes: 1, views: 0, liked_by_viewer: false, already_counted: false },
    ]);
    await expect(getCounts([])).resolves.toEqual({ counts: [] });
  });

  it('answers a page of 100 posts in one call and refuses more', async () => {
    const ids = Array.from({ length: 100 }, newId);
    const res = await getCounts(ids);
    expect((res.counts ?? []).map((c) => Number(c.post_id))).toEqual(ids);
    await expect(getCounts([...ids, newId()])).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('health', () => {
  it('answers the standard health check', async () => {
    await expect(callUnary(health, health.Check, { service: METRICS_SERVICE }, CALL)).resolves.toEqual({
      status: 'SERVING',
    });
  });
});
