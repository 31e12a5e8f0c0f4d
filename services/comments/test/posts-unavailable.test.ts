import request from 'supertest';
import { waitFor } from '@mpb/test-kit';
import { createComment } from './helpers/api';
import { uniquePostId } from './helpers/factories';
import { startTestComments, type TestComments } from './helpers/harness';
import { PostServiceStandIn } from './helpers/post-stand-in';
import { bearer } from './helpers/tokens';
import { sleep } from './helpers/wait';

let t: TestComments;
const posts = new PostServiceStandIn();

beforeAll(async () => {
  // A short deadline keeps the slow-posts case quick.
  t = await startTestComments({ postsAddress: await posts.start(), config: { POSTS_DEADLINE_MS: '300' } });
});

afterAll(async () => {
  await t.close();
  await posts.stop();
});

const stored = async (postId: number): Promise<number> => {
  const [row] = await t.knex('comments').where({ post_id: postId }).count<{ count: string }[]>('* as count');
  return Number(row?.count);
};
const outboxed = async (postId: number): Promise<number> => {
  const [row] = await t
    .knex('outbox')
    .whereRaw("(envelope->'payload'->>'post_id')::bigint = ?", [postId])
    .count<{ count: string }[]>('* as count');
  return Number(row?.count);
};

describe('when posts cannot answer', () => {
  it('answers 503 posts service unavailable when posts is too slow, and stores nothing', async () => {
    const postId = uniquePostId();
    posts.add(postId);
    posts.delayMs = 1000;
    try {
      const res = await request(t.app)
        .post('/api/comments')
        .set('Authorization', bearer(t.tokens.sign(1)))
        .send({ post_id: postId, text: 'hello?' });
      expect(res).toMatchObject({
        status: 503,
        body: { error: 'posts service unavailable', code: 'UNAVAILABLE' },
      });
    } finally {
      posts.delayMs = 0;
    }
    expect(await stored(postId)).toBe(0);
  });

  it('answers 503 posts service unavailable to creations and reads when posts is down, and stores nothing', async () => {
    const postId = uniquePostId();
    posts.add(postId);
    const existing = await createComment(t, postId, 1, 'before the outage');
    await posts.stop();

    for (const res of [
      await request(t.app)
        .post('/api/comments')
        .set('Authorization', bearer(t.tokens.sign(2)))
        .send({ post_id: postId, text: 'during the outage' }),
      await request(t.app)
        .post(`/api/posts/${postId}/comments`)
        .set('Authorization', bearer(t.tokens.sign(2)))
        .send({ text: 'during the outage' }),
    ]) {
      expect(res).toMatchObject({
        status: 503,
        body: { error: 'posts service unavailable', code: 'UNAVAILABLE' },
      });
    }
    expect(await stored(postId)).toBe(1);
    expect(await outboxed(postId)).toBe(1);

    // Reads of a post's comments need posts to say the post is not deleted: a clear 503, never
    // possibly-deleted content. A post without comments needs no answer; edits need only this service.
    for (const path of [
      `/api/comments?post_id=${postId}`,
      `/api/posts/${postId}/comments`,
      `/api/comments/${existing.id}`,
    ]) {
      expect(await request(t.app).get(path)).toMatchObject({
        status: 503,
        body: { error: 'posts service unavailable', code: 'UNAVAILABLE' },
      });
    }
    expect((await request(t.app).get(`/api/posts/${uniquePostId()}/comments`)).body).toEqual([]);
    const edit = await request(t.app)
      .put(`/api/comments/${existing.id}`)
      .set('Authorization', bearer(t.tokens.sign(1)))
      .send({ text: 'edited during the outage' });
    expect(edit.status).toBe(200);
  });

  it('accepts comments again within seconds once posts is back', async () => {
    const postId = uniquePostId();
    posts.add(postId);
    await posts.stop();
    const attempt = () =>
      request(t.app)
        .post('/api/comments')
        .set('Authorization', bearer(t.tokens.sign(3)))
        .send({ post_id: postId, text: 'after the outage' });
    // A few failed calls, so the channel is backing off when posts returns, as after a real outage.
    for (let i = 0; i < 5; i += 1) {
      expect((await attempt()).status).toBe(503);
      await sleep(300);
    }
    await posts.start(posts.port);
    await waitFor(async () => ((await attempt()).status === 201 ? true : undefined), 8_000, 100);
    expect(await stored(postId)).toBe(1);
  });
});
