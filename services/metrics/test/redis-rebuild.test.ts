import request from 'supertest';
import { Messages } from '../src/domain/metrics-service';
import { FLUSHABLE_REDIS_URL, newId, startTestMetrics, stored, type TestMetrics } from './helpers/harness';

// The only suite that flushes: it owns its Redis database index.
let t: TestMetrics;

beforeAll(async () => {
  t = await startTestMetrics({ env: { REDIS_URL: FLUSHABLE_REDIS_URL } });
});

afterAll(async () => {
  await t.close();
});

const like = (postId: number, userId: number) =>
  request(t.app)
    .post(`/api/posts/${postId}/like`)
    .set('authorization', `Bearer ${t.tokenFor(userId)}`);
const unlike = (postId: number, userId: number) =>
  request(t.app)
    .delete(`/api/posts/${postId}/unlike`)
    .set('authorization', `Bearer ${t.tokenFor(userId)}`);
const likedBy = async (postId: number, userId: number): Promise<boolean> =>
  (
    await request(t.app)
      .get(`/api/posts/${postId}/like`)
      .set('authorization', `Bearer ${t.tokenFor(userId)}`)
  ).body.liked;

async function views(postId: number, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) await t.service.recordView(postId, 0);
}

describe('after Redis loses its data', () => {
  it('falls back to PostgreSQL, refills Redis and converges to the exact counts, losing no view or like', async () => {
    const postId = newId();
    t.posts.create(postId);
    const [u1, u2, u3, u4] = [newId(), newId(), newId(), newId()];

    // Folded before the flush: 5 views, u2 and u4 like.
    await views(postId, 5);
    expect((await like(postId, u2)).status).toBe(200);
    expect((await like(postId, u4)).status).toBe(200);
    await t.waitForSync();

    // Published before the flush, folded only after it: 3 views, u1 likes, u2 takes the like back.
    await t.stopConsumers();
    await views(postId, 3);
    expect((await like(postId, u1)).status).toBe(200);
    expect((await unlike(postId, u2)).status).toBe(200);
    expect(await t.service.getCounts([postId], 0)).toEqual([
      { postId, views: 8, likes: 2, likedByViewer: false },
    ]);

    await t.redis.flushdb();

    // Not zero, and no history overwritten: what PostgreSQL has folded so far.
    expect(await t.service.getCounts([postId], 0)).toEqual([
      { postId, views: 5, likes: 2, likedByViewer: false },
    ]);

    // After the flush: 2 views; u1 likes again (Redis reloaded the likers from PostgreSQL, where u1's
    // first like is not folded yet), u3 likes.
    const afterFlush = await t.service.recordView(postId, 0);
    expect(afterFlush.views).toBe(6);
    await views(postId, 1);
    expect((await like(postId, u1)).status).toBe(200);
    expect((await like(postId, u3)).status).toBe(200);

    await t.startConsumers();
    await t.waitForSync();

    const [counts] = await t.service.getCounts([postId], 0);
    expect(counts).toEqual({ postId, views: 10, likes: 3, likedByViewer: false });
    expect(await stored(t.knex, postId)).toEqual({
      views: 10,
      likes: 3,
      likeRows: 3,
      likers: [u1, u3, u4].sort((a, b) => a - b),
    });
    expect(await likedBy(postId, u1)).toBe(true);
    expect(await likedBy(postId, u2)).toBe(false);
    expect(await likedBy(postId, u3)).toBe(true);
    expect(await likedBy(postId, u4)).toBe(true);

    // u1 liked twice across the flush and counts once; the decisions still work on the rebuilt set.
    expect((await like(postId, u1)).status).toBe(400);
    expect((await unlike(postId, u2)).status).toBe(400);
    expect((await like(postId, u2)).body.likes).toBe(4);

    // A flush with everything folded shows the exact counts at once.
    await t.waitForSync();
    await t.redis.flushdb();
    expect(await t.service.getCounts([postId], u2)).toEqual([
      { postId, views: 10, likes: 4, likedByViewer: true },
    ]);
    expect((await t.service.recordView(postId, 0)).views).toBe(11);
  });

  // The class behind the fault suite's flush: likers rebuilt from PostgreSQL before the consumer folded
  // a decision the client already had a 200 for. An answer decided on the older row would contradict
  // that 200, and the fold would overturn it.
  it.each([
    ['an unlike', 'like', Messages.alreadyLiked],
    ['a like', 'unlike', Messages.notLiked],
  ] as const)(
    'never answers a request on rows older than %s acknowledged before a flush',
    async (_name, next, stale) => {
      const postId = newId();
      t.posts.create(postId);
      const u = newId();
      if (next === 'like') expect((await like(postId, u)).status).toBe(200);
      await t.waitForSync();
      await t.stopConsumers();
      let early: request.Response;
      try {
        // Acknowledged, not folded: PostgreSQL still says the opposite.
        expect((await (next === 'like' ? unlike(postId, u) : like(postId, u))).status).toBe(200);
        await t.redis.flushdb();
        early = await (next === 'like' ? like(postId, u) : unlike(postId, u));
      } finally {
        await t.startConsumers();
      }
      // Not the stale 400: nobody can tell until the fold, so nothing is changed and the client retries.
      expect({ status: early.status, error: early.body.error }).not.toEqual({ status: 400, error: stale });
      expect({ status: early.status, error: early.body.error }).toEqual({
        status: 503,
        error: Messages.unsettled,
      });
      await t.waitForSync();
      const res = await (next === 'like' ? like(postId, u) : unlike(postId, u));
      expect(res.status).toBe(200);
      await t.waitForSync();
      expect(await likedBy(postId, u)).toBe(next === 'like');
      expect((await stored(t.knex, postId)).likes).toBe(next === 'like' ? 1 : 0);
    },
  );

  it('answers a page of counts after a flush from PostgreSQL, refilling Redis in one go', async () => {
    const ids = [newId(), newId(), newId()];
    for (const [i, id] of ids.entries()) await views(id, i + 1);
    await t.waitForSync();
    await t.redis.flushdb();
    const counts = await t.service.getCounts(ids, 0);
    expect(counts.map((c) => c.views)).toEqual([1, 2, 3]);
    expect(await t.redis.exists(...ids.map((id) => t.cache.keys(id).counts))).toBe(3);
  });
});
