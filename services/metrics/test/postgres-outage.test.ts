import request from 'supertest';
import type { Knex } from 'knex';
import { createDb } from '@mpb/service-kit';
import {
  newId,
  prepareDatabase,
  startTestMetrics,
  stored,
  TEST_DATABASE_URL,
  type TestMetrics,
} from './helpers/harness';
import { TcpProxy } from './helpers/tcp-proxy';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@mpb/test-kit';

let proxy: TcpProxy;
let t: TestMetrics;
/** A connection that does not go through the proxy, to look at what the consumer stored. */
let direct: Knex;

beforeAll(async () => {
  // knex reports each refused connection with console.log; the refusals are the point here.
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  await (await prepareDatabase()).destroy();
  const target = new URL(TEST_DATABASE_URL);
  proxy = await new TcpProxy(target.hostname, Number(target.port || 5432)).start();
  const viaProxy = new URL(TEST_DATABASE_URL);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  t = await startTestMetrics({ env: { DATABASE_URL: viaProxy.toString(), CONSUMER_MAX_STALL_SECONDS: '5' } });
  direct = createDb(TEST_DATABASE_URL, { max: 2 });
});

afterAll(async () => {
  await proxy.restore().catch(() => undefined);
  await t.close();
  await direct.destroy();
  await proxy.cut();
  jest.restoreAllMocks();
});

const appliedOffsets = async (): Promise<Record<number, string>> =>
  Object.fromEntries(
    (
      await direct('applied_offsets')
        .select('partition', 'applied_offset')
        .where({ topic: t.config.METRICS_TOPIC })
    ).map((r: { partition: number; applied_offset: string }) => [r.partition, r.applied_offset]),
  );

describe('while PostgreSQL is unreachable', () => {
  it('the consumer does not advance its offsets, and catches up with exact totals afterwards', async () => {
    const postId = newId();
    t.posts.create(postId);
    await t.service.recordView(postId, 0);
    const liker = newId();
    expect(
      (
        await request(t.app)
          .post(`/api/posts/${postId}/like`)
          .set('authorization', `Bearer ${t.tokenFor(liker)}`)
      ).status,
    ).toBe(200);
    await t.waitForSync();
    expect(await stored(direct, postId)).toMatchObject({ views: 1, likes: 1 });
    const committedBefore = await t.tool.committed(t.config.METRICS_CONSUMER_GROUP, t.config.METRICS_TOPIC);
    const storedBefore = await appliedOffsets();

    await proxy.cut();
    // Views keep being counted: Redis holds the post's snapshot, PostgreSQL is not needed to answer.
    for (let i = 0; i < 20; i += 1) await t.service.recordView(postId, 0);
    const [live] = await t.service.getCounts([postId], 0);
    expect(live).toMatchObject({ views: 21, likes: 1 });

    await sleep(2500);
    expect(await t.tool.committed(t.config.METRICS_CONSUMER_GROUP, t.config.METRICS_TOPIC)).toEqual(
      committedBefore,
    );
    expect(await appliedOffsets()).toEqual(storedBefore);
    expect((await stored(direct, postId)).views).toBe(1);

    // The consumer stalls: events wait and none is processed for CONSUMER_MAX_STALL_SECONDS (5 s).
    const consumerCheck = `consumer ${t.config.METRICS_CONSUMER_GROUP}`;
    const ready = await waitFor(async () => {
      const res = await request(t.app).get('/readyz');
      return /^degraded: 20 events waiting, none processed for \d+ s$/.test(res.body.checks[consumerCheck])
        ? res
        : undefined;
    }, 15_000);
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database).not.toBe('ok');

    await proxy.restore();
    await t.waitForSync(30_000);
    expect(await stored(direct, postId)).toMatchObject({ views: 21, likes: 1, likers: [liker] });
    const [after] = await t.service.getCounts([postId], liker);
    expect(after).toEqual({ postId, views: 21, likes: 1, likedByViewer: true });
    expect((await request(t.app).get('/readyz')).status).toBe(200);
  });
});
