import request from 'supertest';
import { newId, startTestMetrics, stored, type TestMetrics } from './helpers/harness';

let t: TestMetrics;

beforeAll(async () => {
  t = await startTestMetrics();
});

afterAll(async () => {
  await t.close();
});

function newPost(): number {
  const id = newId();
  t.posts.create(id);
  return id;
}

const send = (method: 'post' | 'delete', postId: number, userId: number) => {
  const path = `/api/posts/${postId}/${method === 'post' ? 'like' : 'unlike'}`;
  const req = method === 'post' ? request(t.app).post(path) : request(t.app).delete(path);
  return req.set('authorization', `Bearer ${t.tokenFor(userId)}`);
};

/** What every reader agrees on: Redis (the API's source), PostgreSQL after the fold, the API itself. */
async function everyView(postId: number, someUser: number) {
  await t.waitForSync();
  const [counts] = await t.service.getCounts([postId], someUser);
  const api = await request(t.app)
    .get(`/api/posts/${postId}/like`)
    .set('authorization', `Bearer ${t.tokenFor(someUser)}`);
  const redisLikers = await t.redis.hget(t.cache.keys(postId).likers, '#n');
  return {
    redis: Number(redisLikers),
    grpc: counts!.likes,
    api: api.body.likes as number,
    pg: await stored(t.knex, postId),
  };
}

describe('concurrent likes', () => {
  it('counts 100 concurrent likes of one user once: in Redis, in PostgreSQL and in the API', async () => {
    const postId = newPost();
    const user = newId();
    const responses = await Promise.all(Array.from({ length: 100 }, () => send('post', postId, user)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(99);
    const seen = await everyView(postId, user);
    expect(seen).toMatchObject({ redis: 1, grpc: 1, api: 1, pg: { likes: 1, likeRows: 1, likers: [user] } });
  });

  it('counts 50 users liking at once as 50', async () => {
    const postId = newPost();
    const users = Array.from({ length: 50 }, newId);
    const responses = await Promise.all(users.map((u) => send('post', postId, u)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(Math.max(...responses.map((r) => r.body.likes))).toBe(50);
    const seen = await everyView(postId, users[0]!);
    expect(seen).toMatchObject({ redis: 50, grpc: 50, api: 50, pg: { likes: 50, likeRows: 50 } });
    expect(seen.pg.likers).toEqual([...users].sort((a, b) => a - b));
  });

  it('ends interleaved likes and unlikes of several users, in random order, with every view agreeing', async () => {
    const postId = newPost();
    const users = Array.from({ length: 8 }, newId);
    const requests = users.flatMap((u) =>
      Array.from({ length: 12 }, (_, i) => ({
        user: u,
        method: (i % 2 === 0 ? 'post' : 'delete') as 'post' | 'delete',
      })),
    );
    for (let i = requests.length - 1; i > 0; i -= 1) {
      const j = Math.floor(Math.random() * (i + 1));
      [requests[i], requests[j]] = [requests[j]!, requests[i]!];
    }
    const responses = await Promise.all(requests.map((r) => send(r.method, postId, r.user)));
    expect(responses.every((r) => r.status === 200 || r.status === 400)).toBe(true);
    // Never negative, never above the number of users, whatever the interleaving.
    for (const r of responses.filter((x) => x.status === 200)) {
      expect(r.body.likes).toBeGreaterThanOrEqual(0);
      expect(r.body.likes).toBeLessThanOrEqual(users.length);
    }

    const seen = await everyView(postId, users[0]!);
    expect(seen.grpc).toBe(seen.redis);
    expect(seen.api).toBe(seen.redis);
    expect(seen.pg.likes).toBe(seen.redis);
    expect(seen.pg.likeRows).toBe(seen.redis);
    const likedInRedis: number[] = [];
    for (const u of users) {
      const entry = await t.redis.hget(t.cache.keys(postId).likers, String(u));
      if (Number(entry) > 0) likedInRedis.push(u);
    }
    expect(seen.pg.likers).toEqual(likedInRedis.sort((a, b) => a - b));
  });
});
