import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createEnvelope, deadLetterTopicOf, EventTypes } from '@mpb/contracts';
import { readTopic, waitFor } from '@mpb/test-kit';
import { newId, postDeleted, startTestMetrics, stored, type TestMetrics } from './helpers/harness';

let t: TestMetrics;

beforeAll(async () => {
  t = await startTestMetrics();
});

afterAll(async () => {
  await t.close();
});

const like = (postId: number | string, token: string) =>
  request(t.app).post(`/api/posts/${postId}/like`).set('authorization', `Bearer ${token}`);
const unlike = (postId: number | string, token: string, path = 'unlike') =>
  request(t.app).delete(`/api/posts/${postId}/${path}`).set('authorization', `Bearer ${token}`);
const status = (postId: number | string, token: string) =>
  request(t.app).get(`/api/posts/${postId}/like`).set('authorization', `Bearer ${token}`);

function newPost(): number {
  const id = newId();
  t.posts.create(id);
  return id;
}

describe('like and unlike', () => {
  it('keeps the old responses and messages, and tells a reader whether they like the post', async () => {
    const postId = newPost();
    const token = t.tokenFor(newId());

    const liked = await like(postId, token);
    expect(liked.status).toBe(200);
    expect(liked.body).toEqual({ post_id: postId, likes: 1, message: 'Post liked successfully' });

    const again = await like(postId, token);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ error: 'user already liked this post', code: 'BAD_REQUEST' });

    expect((await status(postId, token)).body).toEqual({ post_id: postId, likes: 1, liked: true });
    const other = t.tokenFor(newId());
    expect((await status(postId, other)).body).toEqual({ post_id: postId, likes: 1, liked: false });

    const unliked = await unlike(postId, token);
    expect(unliked.status).toBe(200);
    expect(unliked.body).toEqual({ post_id: postId, likes: 0, message: 'Post unliked successfully' });

    const notLiked = await unlike(postId, token);
    expect(notLiked.status).toBe(400);
    expect(notLiked.body.error).toBe("user hasn't liked this post");
    expect((await status(postId, token)).body).toEqual({ post_id: postId, likes: 0, liked: false });
  });

  it('accepts DELETE /api/posts/:id/like as an alias of unlike', async () => {
    const postId = newPost();
    const token = t.tokenFor(newId());
    expect((await like(postId, token)).status).toBe(200);
    const res = await unlike(postId, token, 'like');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ post_id: postId, likes: 0, message: 'Post unliked successfully' });
  });

  it('requires an access token, checked before the post id', async () => {
    const postId = newPost();
    for (const send of [
      () => request(t.app).post(`/api/posts/${postId}/like`),
      () => request(t.app).delete(`/api/posts/${postId}/unlike`),
      () => request(t.app).get(`/api/posts/abc/like`),
    ]) {
      const res = await send();
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('missing token');
    }
    const format = await request(t.app).post(`/api/posts/${postId}/like`).set('authorization', 'Token x');
    expect(format.body.error).toBe('invalid token format');
    const forged = await request(t.app)
      .post(`/api/posts/${postId}/like`)
      .set('authorization', 'Bearer abc.def.ghi');
    expect(forged.status).toBe(401);
    expect(forged.body.error).toBe('invalid token');
    const refresh = t.keys.sign(newId(), { typ: 'refresh' });
    expect((await like(postId, refresh)).status).toBe(401);
  });

  it('refuses the access tokens of a session within a second of auth listing it as revoked', async () => {
    const sessionId = randomUUID();
    const token = t.tokenFor(newId(), sessionId);
    expect((await like(newPost(), token)).status).toBe(200);
    t.revocationFeed.revoke(sessionId);
    const revokedAt = Date.now();
    const res = await waitFor(
      async () => {
        const r = await like(newPost(), token);
        return r.status === 401 ? r : undefined;
      },
      2000,
      20,
    );
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expect(res.body.error).toBe('invalid token');
  });

  it('reads leading zeros in the post id as the old API did, as every service does', async () => {
    const postId = newPost();
    const token = t.tokenFor(newId());
    expect((await like(`00${postId}`, token)).body).toEqual({
      post_id: postId,
      likes: 1,
      message: 'Post liked successfully',
    });
    expect((await status(`00${postId}`, token)).body).toEqual({ post_id: postId, likes: 1, liked: true });
    expect((await unlike(`00${postId}`, token)).body).toMatchObject({ post_id: postId, likes: 0 });
  });

  it.each(['abc', '0', '-1', '+1', '1.5', '1e3', '9007199254740992'])(
    'answers 400 invalid post id for %p',
    async (id) => {
      const token = t.tokenFor(newId());
      for (const res of [await like(id, token), await unlike(id, token), await status(id, token)]) {
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('invalid post id');
      }
    },
  );
});

describe('posts that do not exist', () => {
  it('answers 404 for a missing or deleted post, changes nothing, and the pipeline keeps flowing', async () => {
    const token = t.tokenFor(newId());
    const missing = newId();
    const deleted = newPost();
    t.posts.delete(deleted);
    for (const postId of [missing, deleted]) {
      for (const res of [
        await like(postId, token),
        await unlike(postId, token),
        await status(postId, token),
      ]) {
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ error: 'post not found', code: 'NOT_FOUND' });
      }
    }
    const valid = newPost();
    expect((await like(valid, token)).status).toBe(200);
    await t.waitForSync();
    expect(await stored(t.knex, valid)).toMatchObject({ likes: 1, likeRows: 1 });
    expect(await stored(t.knex, missing)).toEqual({ views: 0, likes: 0, likeRows: 0, likers: [] });
  });

  it('lets a post created a moment ago be liked at once (a "not found" is never cached)', async () => {
    const token = t.tokenFor(newId());
    const postId = newId();
    expect((await like(postId, token)).status).toBe(404);
    t.posts.create(postId);
    expect((await like(postId, token)).status).toBe(200);
  });

  it('answers 503 and changes nothing while posts cannot be asked', async () => {
    const token = t.tokenFor(newId());
    const postId = newPost();
    await t.posts.stop();
    try {
      const res = await like(postId, token);
      expect(res.status).toBe(503);
      expect(res.body.error).toMatch(/posts service unavailable/);
      expect(await t.redis.exists(t.cache.keys(postId).likers)).toBe(0);
    } finally {
      await t.posts.start();
    }
    await waitFor(async () => ((await like(postId, token)).status === 200 ? true : undefined), 15_000, 200);
    expect((await status(postId, token)).body).toEqual({ post_id: postId, likes: 1, liked: true });
  });
});

describe('post.deleted', () => {
  it('removes the counters from Redis and PostgreSQL, idempotently, and late events do not bring them back', async () => {
    const postId = newPost();
    const user = newId();
    expect((await like(postId, t.tokenFor(user))).status).toBe(200);
    await t.service.recordView(postId, user);
    await t.waitForSync();
    expect(await stored(t.knex, postId)).toMatchObject({ views: 1, likes: 1, likeRows: 1 });

    t.posts.delete(postId);
    await t.tool.sendEvents(t.config.POSTS_TOPIC, [postDeleted(postId), postDeleted(postId)]);
    // A view counted before the deletion, folded after it.
    await t.tool.sendEvents(t.config.METRICS_TOPIC, [
      createEnvelope({
        type: EventTypes.PostViewed,
        aggregateType: 'post',
        aggregateId: postId,
        payload: { post_id: postId, viewer_id: 0 },
        source: 'metrics',
      }),
    ]);
    await t.waitForSync();

    expect(await t.knex('post_counters').where({ post_id: postId })).toHaveLength(0);
    expect(await t.knex('post_likes').where({ post_id: postId })).toHaveLength(0);
    expect(await t.knex('deleted_posts').where({ post_id: postId })).toHaveLength(1);
    const keys = t.cache.keys(postId);
    expect(await t.redis.exists(keys.counts, keys.likers)).toBe(0);
    await expect(t.service.recordView(postId, 0)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await like(postId, t.tokenFor(newId()))).status).toBe(404);
  });
});

describe('a deleted post that posts still reports (a cached answer, a lagging replica)', () => {
  it('is refused by the deletion marker in Redis', async () => {
    const postId = newPost();
    const token = t.tokenFor(newId());
    expect((await like(postId, token)).status).toBe(200);
    await t.tool.sendEvents(t.config.POSTS_TOPIC, [postDeleted(postId)]);
    await t.waitForSync();
    t.posts.create(postId);
    for (const res of [
      await like(postId, t.tokenFor(newId())),
      await unlike(postId, token),
      await status(postId, token),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('post not found');
    }
    expect(await t.service.getCounts([postId], 0)).toEqual([
      { postId, likes: 0, views: 0, likedByViewer: false },
    ]);
  });
});

describe('the consumer', () => {
  it('parks poison messages in the dead-letter topic with the reason and folds the next event', async () => {
    const postId = newPost();
    await t.tool.send(t.config.METRICS_TOPIC, [
      { key: String(postId), value: 'not json at all' },
      {
        key: String(postId),
        value: JSON.stringify(
          createEnvelope({
            type: EventTypes.PostLiked,
            aggregateType: 'post',
            aggregateId: postId,
            payload: { post_id: postId, user_id: 'nobody' },
            source: 'somewhere',
          }),
        ),
      },
    ]);
    expect((await like(postId, t.tokenFor(newId()))).status).toBe(200);
    await t.waitForSync();
    expect(await stored(t.knex, postId)).toMatchObject({ likes: 1, likeRows: 1 });

    const reader = await readTopic({
      brokers: t.config.KAFKA_BROKERS,
      clientId: 'metrics-dlt-reader',
      topic: deadLetterTopicOf(t.config.METRICS_TOPIC),
    });
    const reasonsFor = (): string[] =>
      reader.received
        .filter((m) => m.key?.toString() === String(postId))
        .map((m) => String(m.headers?.['x-dlt-reason']));
    let reasons: string[] = [];
    try {
      reasons = await waitFor(async () => (reasonsFor().length >= 2 ? reasonsFor() : undefined), 20_000);
    } finally {
      await reader.stop();
    }
    expect(reasons).toEqual(
      expect.arrayContaining([expect.stringMatching(/not JSON/), expect.stringMatching(/user_id/)]),
    );
  });

  it('reports itself ready while it keeps up', async () => {
    const res = await request(t.app).get('/readyz');
    expect(res.status).toBe(200);
    expect(Object.values(res.body.checks)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });
});

describe('when Kafka cannot take the event', () => {
  it("answers 503, and the likes read afterwards are PostgreSQL's: nothing is half-applied", async () => {
    const token = t.tokenFor(newId());
    const kept = newPost();
    expect((await like(kept, token)).status).toBe(200);
    const viewed = newPost();
    const before = await t.service.recordView(viewed, 0);
    // Folded, so the answers below hold whether Redis keeps the take-back or reloads from PostgreSQL.
    await t.waitForSync();

    await t.events.producer.disconnect();
    const fresh = newPost();
    const refused = await like(fresh, token);
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('UNAVAILABLE');
    expect((await status(fresh, token)).body).toEqual({ post_id: fresh, likes: 0, liked: false });

    expect((await unlike(kept, token)).status).toBe(503);
    expect((await status(kept, token)).body).toEqual({ post_id: kept, likes: 1, liked: true });

    await expect(t.service.recordView(viewed, 0)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const [after] = await t.service.getCounts([viewed], 0);
    expect(after!.views).toBe(before.views);
  });
});
