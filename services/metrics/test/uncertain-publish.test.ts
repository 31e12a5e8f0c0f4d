import request from 'supertest';
import type { EventEnvelope } from '@mpb/contracts';
import { ProducerClosedError } from '@mpb/kafka';
import { createApiContext, resetOnStart, resetUnpublished } from '../src/context';
import { Messages } from '../src/domain/metrics-service';
import { createHttpApp } from '../src/http/app';
import { newId, startTestMetrics, stored, type TestMetrics } from './helpers/harness';

/**
 * A publish that fails is uncertain (the broker may have written the event, the consumer may even have
 * folded it); a process killed between its Redis change and its publish leaves a change no event
 * backs. Either way Redis, PostgreSQL and the API must end up agreeing.
 */
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

/** The API of this test's platform, with a publisher of the test's choosing. */
function apiWith(publish: (e: EventEnvelope<unknown>) => Promise<void>, publishTimeoutMs = 30_000) {
  const { service, verifier } = createApiContext({
    settings: { ...t.config, METRICS_PUBLISH_TIMEOUT_MS: publishTimeoutMs },
    knex: t.knex,
    revocations: t.revocations,
    cache: t.cache,
    posts: t.directory,
    events: { publish },
    logger: t.logger,
    loadKeys: t.keys.loadKeys,
  });
  return {
    service,
    app: createHttpApp({ logger: t.logger, metrics: t.metrics, routes: { service, verifier } }),
  };
}

const status = (userId: number, postId: number) =>
  request(t.app)
    .get(`/api/posts/${postId}/like`)
    .set('authorization', `Bearer ${t.tokenFor(userId)}`);

/** What the API, PostgreSQL and Redis say about one user's like of one post. */
async function views3(postId: number, userId: number) {
  const pg = await stored(t.knex, postId);
  const api = (await status(userId, postId)).body;
  const entry = await t.redis.hget(t.cache.keys(postId).likers, String(userId));
  const [anonymous] = await t.service.getCounts([postId], 0);
  return {
    pg: { likes: pg.likes, rows: pg.likeRows, liked: pg.likers.includes(userId) },
    api: { likes: api.likes, liked: api.liked, anonymous: anonymous!.likes },
    redis: Number(entry ?? 0) > 0,
  };
}

describe('a like whose publish fails', () => {
  it('takes back a decision Kafka wrote and the consumer folded before the failure was known', async () => {
    const postId = newPost();
    const [other, user] = [newId(), newId()];
    expect((await t.service.like(other, postId)).likes).toBe(1);
    // The event is written and folded (its entry merged into Redis with the decision's sequence),
    // and only then does the publish report a failure, as a batch retried past a broker restart can.
    let calls = 0;
    const { service } = apiWith(async (envelope) => {
      calls += 1;
      await t.events.publish(envelope);
      if (calls > 1) return;
      await t.waitForSync();
      throw new Error('acknowledgement lost');
    });
    await expect(service.like(user, postId)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: Messages.notRecorded,
    });
    // The client was told nothing changed: the decision is taken back by a newer one.
    await service.idle();
    await t.waitForSync();

    expect(await views3(postId, user)).toEqual({
      pg: { likes: 1, rows: 1, liked: false },
      api: { likes: 1, liked: false, anonymous: 1 },
      redis: false,
    });
    // And the state is the one decisions see: unliking is refused, liking counts.
    expect((await t.service.unlike(user, postId).catch((e: Error) => e.message)) as string).toBe(
      Messages.notLiked,
    );
    expect((await t.service.like(user, postId)).likes).toBe(2);
    await t.waitForSync();
    expect((await stored(t.knex, postId)).likers).toEqual([other, user].sort((a, b) => a - b));
  });

  it('is taken back even when Kafka writes it after the client got its 503', async () => {
    const postId = newPost();
    const user = newId();
    await t.service.like(user, postId);
    await t.waitForSync();
    // The unlike's event stays queued while the request gives up; it is written afterwards.
    let release: () => void = () => undefined;
    const late = new Promise<void>((resolve) => (release = resolve));
    let written: Promise<void> | undefined;
    const { service } = apiWith(async (envelope) => {
      if (written) return t.events.publish(envelope);
      written = late.then(() => t.events.publish(envelope));
      return written;
    }, 200);
    await expect(service.unlike(user, postId)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // Before the late write: still liked, as the 503 said.
    expect((await status(user, postId)).body).toEqual({ post_id: postId, likes: 1, liked: true });
    release();
    await written;
    await service.idle();
    await t.waitForSync();
    expect(await views3(postId, user)).toEqual({
      pg: { likes: 1, rows: 1, liked: true },
      api: { likes: 1, liked: true, anonymous: 1 },
      redis: true,
    });
  });

  it('answers 503 within the publish timeout when Kafka never takes it, then agrees with PostgreSQL', async () => {
    const postId = newPost();
    const [other, user] = [newId(), newId()];
    await t.service.like(other, postId);
    await t.service.like(user, postId);
    await t.waitForSync();
    // A broker that never answers: the request gives up after the timeout, the event is never written.
    const { app } = apiWith(() => new Promise<void>(() => undefined), 300);
    const started = Date.now();
    const res = await request(app)
      .delete(`/api/posts/${postId}/unlike`)
      .set('authorization', `Bearer ${t.tokenFor(user)}`);
    expect({ status: res.status, error: res.body.error }).toEqual({
      status: 503,
      error: Messages.notRecorded,
    });
    expect(Date.now() - started).toBeLessThan(2000);

    expect(await views3(postId, user)).toEqual({
      pg: { likes: 2, rows: 2, liked: true },
      api: { likes: 2, liked: true, anonymous: 2 },
      redis: true,
    });
    expect(await t.redis.hget(t.cache.keys(postId).likers, '#loaded')).toBe('1');
  });
});

describe('the start-up reset', () => {
  const reset = (recentMs?: number) => resetUnpublished(t.cache, t.service, recentMs);

  it('backs every recent like decision with an event and forgets unpublished views, so the API equals PostgreSQL exactly', async () => {
    const postId = newPost();
    const [liker, ghost] = [newId(), newId()];
    for (let i = 0; i < 3; i += 1) await t.service.recordView(postId, 0);
    await t.service.like(liker, postId);
    await t.waitForSync();
    // A process killed between its Redis change and its publish: a view and a like decision in
    // Redis that were never published (their clients got no answer or a 5xx, so either outcome is
    // allowed for the like; the view is forgotten).
    await t.cache.recordView(postId, 0, undefined, 0);
    expect(await t.cache.decideLike(postId, ghost, true)).toMatchObject({ kind: 'changed', likes: 2 });
    // And views published but not folded yet, as another replica's in flight.
    await t.stopConsumers();
    await t.service.recordView(postId, 0);
    await t.service.recordView(postId, 0);
    const [before] = await t.service.getCounts([postId], 0);
    expect(before).toMatchObject({ views: 6, likes: 2 });

    const outcome = await reset();
    expect(outcome.epochs).toBeGreaterThanOrEqual(1);
    expect(outcome.confirmed).toBeGreaterThanOrEqual(1);
    // Views after the reset open a new epoch.
    await t.service.recordView(postId, 0);
    await t.startConsumers();
    await t.waitForSync();

    const pg = await stored(t.knex, postId);
    expect(pg).toMatchObject({ views: 6, likes: 2 });
    expect(pg.likers.sort()).toEqual([liker, ghost].sort());
    const [after] = await t.service.getCounts([postId], 0);
    expect(after).toMatchObject({ views: 6, likes: 2 });
    expect((await status(ghost, postId)).body).toEqual({ post_id: postId, likes: 2, liked: true });
    expect((await status(liker, postId)).body).toEqual({ post_id: postId, likes: 2, liked: true });
  });

  // A restart while the consumer has not folded the newest decisions: PostgreSQL still holds the state
  // before them. An answer decided on it would contradict the 200 the client just had.
  it.each([
    ['an unlike', 'like'],
    ['a like', 'unlike'],
  ] as const)(
    'keeps %s acknowledged but not folded yet, so the next request is decided on it',
    async (_name, next) => {
      const postId = newPost();
      const [user, other] = [newId(), newId()];
      if (next === 'like') await t.service.like(user, postId);
      await t.service.like(other, postId);
      await t.waitForSync();
      await t.stopConsumers();
      try {
        // Acknowledged by Kafka (the client got its 200), not folded: PostgreSQL still says the opposite.
        if (next === 'like') await t.service.unlike(user, postId);
        else await t.service.like(user, postId);
        const outcome = await reset();
        expect(outcome.confirmed).toBeGreaterThanOrEqual(1);
        // Decided on PostgreSQL's rows, this would be a 400 "already liked" / "hasn't liked".
        const token = `Bearer ${t.tokenFor(user)}`;
        const res = await (
          next === 'like'
            ? request(t.app).post(`/api/posts/${postId}/like`)
            : request(t.app).delete(`/api/posts/${postId}/unlike`)
        ).set('authorization', token);
        expect({ status: res.status, error: res.body.error }).toEqual({ status: 200, error: undefined });
      } finally {
        await t.startConsumers();
      }
      await t.waitForSync();
      const liked = next === 'like';
      const pg = await stored(t.knex, postId);
      expect({ liked: pg.likers.includes(user), likes: pg.likes }).toEqual({ liked, likes: liked ? 2 : 1 });
      expect((await status(user, postId)).body).toEqual({ post_id: postId, likes: pg.likes, liked });
    },
  );

  // A restarted process serves before its producer has connected (it connects in the background). Had
  // the reset published its confirmations then, every one would fail and every recent likers hash would
  // be dropped, so the next decision would be taken on PostgreSQL's rows, which lack what the consumer
  // (rejoining its group) has not folded yet: the fault suite's SIGKILL of metrics showed exactly that.
  it('confirms recent likers once the producer is connected, and holds decisions until then', async () => {
    const postId = newPost();
    const [user, other] = [newId(), newId()];
    await t.service.like(user, postId);
    await t.service.like(other, postId);
    await t.waitForSync();
    await t.stopConsumers();
    const likers = t.cache.keys(postId).likers;
    const like = () =>
      request(app)
        .post(`/api/posts/${postId}/like`)
        .set('authorization', `Bearer ${t.tokenFor(user)}`);
    let connected = false;
    let connect!: () => void;
    const connecting = new Promise<void>((resolve) => {
      connect = () => {
        connected = true;
        resolve();
      };
    });
    const { service, app } = apiWith(async (envelope) => {
      if (!connected) throw new ProducerClosedError();
      await t.events.publish(envelope);
    }, 300);
    try {
      // Acknowledged by Kafka, not folded: PostgreSQL still says the user likes the post.
      await t.service.unlike(user, postId);
      const reset = await resetOnStart({
        cache: t.cache,
        service,
        producer: { whenConnected: () => connecting, isConnected: () => connected },
      });
      expect(await t.redis.hget(likers, String(user))).toMatch(/^-\d+$/);
      // Before the producer connects: a clear 503, and nothing changed.
      const early = await like();
      expect({ status: early.status, error: early.body.error }).toEqual({
        status: 503,
        error: Messages.notRecorded,
      });
      expect(await t.redis.hget(likers, String(user))).toMatch(/^-\d+$/);

      connect();
      const outcome = await reset.likers;
      expect(outcome?.confirmed).toBeGreaterThanOrEqual(1);
      expect(await t.redis.hget(likers, '#loaded')).toBe('1');
      // Decided on the kept unlike: a 200 (PostgreSQL's row would answer "already liked").
      const res = await like();
      expect({ status: res.status, error: res.body.error }).toEqual({ status: 200, error: undefined });
    } finally {
      connect();
      await t.startConsumers();
    }
    await t.waitForSync();
    const pg = await stored(t.knex, postId);
    expect({ liked: pg.likers.includes(user), likes: pg.likes }).toEqual({ liked: true, likes: 2 });
  });

  it('drops likers with no recent entry: they are reloaded from PostgreSQL', async () => {
    const postId = newPost();
    const liker = newId();
    await t.service.like(liker, postId);
    await t.waitForSync();
    // Every entry is older than a window of 0 ms.
    const outcome = await reset(0);
    expect(outcome.likers).toBeGreaterThanOrEqual(1);
    expect(await t.redis.exists(t.cache.keys(postId).likers)).toBe(0);
    expect((await status(liker, postId)).body).toEqual({ post_id: postId, likes: 1, liked: true });
  });

  it('touches only the keys of its own prefix', async () => {
    const foreign = `other-${newId()}:{${newId()}}`;
    await t.redis.hset(`${foreign}:counts`, 'e', '1', 'p', '5');
    await t.redis.hset(`${foreign}:likers`, '#loaded', '1');
    try {
      await reset();
      expect(await t.redis.hgetall(`${foreign}:counts`)).toEqual({ e: '1', p: '5' });
      expect(await t.redis.exists(`${foreign}:likers`)).toBe(1);
    } finally {
      await t.redis.del(`${foreign}:counts`, `${foreign}:likers`);
    }
  });
});
