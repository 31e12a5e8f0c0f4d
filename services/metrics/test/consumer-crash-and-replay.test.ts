import { randomInt } from 'node:crypto';
import { createEnvelope, EventTypes, type EventEnvelope } from '@mpb/contracts';
import { ensureBuilt, spawnConsumer, type ChildConsumer } from './helpers/child-consumer';
import { newId, startTestMetrics, stored, suffix, type TestMetrics } from './helpers/harness';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@mpb/test-kit';

let t: TestMetrics;
const children: ChildConsumer[] = [];

const POSTS = Array.from({ length: 20 }, newId);
const USERS = Array.from({ length: 15 }, newId);
const EPOCH = Date.now() * 1000;
const expected = new Map<number, { views: number; likers: Set<number> }>();
const events: EventEnvelope<unknown>[] = [];

/** A few thousand events as the API publishes them; the expected totals are computed alongside. */
function produceScript(): void {
  let seq = EPOCH;
  for (const p of POSTS) expected.set(p, { views: 0, likers: new Set() });
  for (let i = 0; i < 4000; i += 1) {
    const postId = POSTS[randomInt(POSTS.length)]!;
    const e = expected.get(postId)!;
    if (i % 4 !== 0) {
      e.views += 1;
      events.push(
        createEnvelope({
          type: EventTypes.PostViewed,
          aggregateType: 'post',
          aggregateId: postId,
          payload: { post_id: postId, viewer_id: 0, epoch: EPOCH, views: e.views },
          source: 'metrics',
        }),
      );
      continue;
    }
    const userId = USERS[randomInt(USERS.length)]!;
    const liked = !e.likers.has(userId);
    if (liked) e.likers.add(userId);
    else e.likers.delete(userId);
    seq += 1;
    events.push(
      createEnvelope({
        type: liked ? EventTypes.PostLiked : EventTypes.PostUnliked,
        aggregateType: 'post',
        aggregateId: postId,
        payload: { post_id: postId, user_id: userId, seq, likes: e.likers.size },
        source: 'metrics',
      }),
    );
  }
}

async function appliedSoFar(): Promise<number> {
  const row = await t
    .knex('applied_offsets')
    .where({ topic: t.config.METRICS_TOPIC })
    .sum<{ sum: string | null }>({ sum: t.knex.raw('applied_offset + 1') })
    .first();
  return Number(row?.sum ?? 0);
}

async function expectExactTotals(): Promise<void> {
  for (const postId of POSTS) {
    const want = expected.get(postId)!;
    const got = await stored(t.knex, postId);
    expect({ postId, ...got }).toEqual({
      postId,
      views: want.views,
      likes: want.likers.size,
      likeRows: want.likers.size,
      likers: [...want.likers].sort((a, b) => a - b),
    });
  }
  // Redis got the folded state too, so the API answers the same totals.
  const counts = await t.service.getCounts(POSTS, 0);
  expect(counts.map((c) => [c.views, c.likes])).toEqual(
    POSTS.map((p) => [expected.get(p)!.views, expected.get(p)!.likers.size]),
  );
}

beforeAll(async () => {
  ensureBuilt();
  t = await startTestMetrics({ consumers: false });
  produceScript();
  await t.tool.sendEvents(t.config.METRICS_TOPIC, events);
}, 120_000);

afterAll(async () => {
  for (const child of children) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  }
  await t.close();
});

describe('the consumer process', () => {
  it('leaves exact totals after being killed with SIGKILL in the middle of the work and restarted', async () => {
    const first = spawnConsumer(t.config, { METRICS_BATCH_SIZE: '20' });
    children.push(first);
    await waitFor(async () => ((await appliedSoFar()) > 0 ? true : undefined), 30_000, 10);
    await sleep(randomInt(0, 40));
    first.process.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const atKill = await appliedSoFar();
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(events.length);

    const second = spawnConsumer(t.config, { METRICS_BATCH_SIZE: '20' });
    children.push(second);
    await t.tool.waitForGroup(t.config.METRICS_CONSUMER_GROUP, t.config.METRICS_TOPIC, 45_000);
    await expectExactTotals();

    // SIGTERM: stops intake, finishes the batch in flight, commits, exits cleanly.
    second.process.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('changes nothing when the group is reset to the earliest offset and everything is replayed', async () => {
    const admin = t.tool.kafka.admin();
    await admin.connect();
    try {
      await admin.resetOffsets({
        groupId: t.config.METRICS_CONSUMER_GROUP,
        topic: t.config.METRICS_TOPIC,
        earliest: true,
      });
    } finally {
      await admin.disconnect();
    }
    const replay = spawnConsumer(t.config);
    children.push(replay);
    await t.tool.waitForGroup(t.config.METRICS_CONSUMER_GROUP, t.config.METRICS_TOPIC, 45_000);
    await expectExactTotals();
    replay.process.kill('SIGTERM');
    expect(await replay.exited).toBe(0);
  });

  it('changes nothing when a new consumer group reads the topic from the beginning', async () => {
    const group = `metrics-test-replay-${suffix()}`;
    const replay = spawnConsumer(t.config, { METRICS_CONSUMER_GROUP: group });
    children.push(replay);
    await t.tool.waitForGroup(group, t.config.METRICS_TOPIC, 45_000);
    await expectExactTotals();
    replay.process.kill('SIGTERM');
    expect(await replay.exited).toBe(0);
  });
});
