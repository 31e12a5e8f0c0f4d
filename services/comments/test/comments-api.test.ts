import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { waitFor } from '@mpb/test-kit';
import { createComment, type CommentBody } from './helpers/api';
import { uniquePostId, uniqueUserId } from './helpers/factories';
import { startTestComments, type TestComments } from './helpers/harness';
import { PostServiceStandIn } from './helpers/post-stand-in';
import { bearer } from './helpers/tokens';

/** The event continues the request's trace as a child of the service's own span of it. */
const childOf = (traceparent: string): unknown =>
  expect.stringMatching(
    new RegExp(`^00-${traceparent.slice(3, 35)}-(?!${traceparent.slice(36, 52)})[0-9a-f]{16}-01$`),
  );

/** JSON with every non-ASCII character escaped as \\uXXXX: the largest encoding of a text. */
const escapedJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/** An object of n keys, as raw JSON. */
const wideJson = (n: number): string => `{${Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',')}}`;

let t: TestComments;
const posts = new PostServiceStandIn();

beforeAll(async () => {
  t = await startTestComments({ postsAddress: await posts.start() });
});

afterAll(async () => {
  await t.close();
  await posts.stop();
});

const newPost = (): number => {
  const id = uniquePostId();
  posts.add(id);
  return id;
};
const auth = (userId: number) => ({ Authorization: bearer(t.tokens.sign(userId)) });
const liveCount = async (postId: number): Promise<number> => {
  const row = await t.knex('comments').where({ post_id: postId }).count<{ count: string }[]>('* as count');
  return Number(row[0]?.count);
};

describe('comment lifecycle', () => {
  it('creates, reads, lists, updates and deletes a comment in the old CommentResponse shape', async () => {
    const postId = newPost();
    const userId = uniqueUserId();
    const created = await request(t.app)
      .post('/api/comments')
      .set(auth(userId))
      .send({ post_id: postId, text: '  first!  ' });
    expect(created.status).toBe(201);
    const comment = created.body as CommentBody;
    expect(Object.keys(comment).sort()).toEqual(
      ['blocked', 'created_at', 'id', 'like', 'post_id', 'text', 'updated_at', 'user_id'].sort(),
    );
    expect(comment).toMatchObject({
      post_id: postId,
      user_id: userId,
      text: 'first!',
      like: 0,
      blocked: false,
    });
    expect(new Date(comment.created_at).toISOString()).toBe(comment.created_at);

    expect((await request(t.app).get(`/api/comments/${comment.id}`)).body).toEqual(comment);
    expect((await request(t.app).get(`/api/comments?post_id=${postId}`)).body).toEqual([comment]);
    expect((await request(t.app).get(`/api/posts/${postId}/comments`)).body).toEqual([comment]);

    const updated = await request(t.app)
      .put(`/api/comments/${comment.id}`)
      .set(auth(userId))
      .send({ text: 'edited' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ ...comment, text: 'edited', updated_at: expect.any(String) });
    expect(new Date(updated.body.updated_at).getTime()).toBeGreaterThanOrEqual(
      new Date(comment.created_at).getTime(),
    );

    const deleted = await request(t.app).delete(`/api/comments/${comment.id}`).set(auth(userId));
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');

    expect(await request(t.app).get(`/api/comments/${comment.id}`)).toMatchObject({
      status: 404,
      body: { error: 'comment not found', code: 'NOT_FOUND' },
    });
    expect((await request(t.app).get(`/api/comments?post_id=${postId}`)).body).toEqual([]);
    for (const attempt of [
      request(t.app).put(`/api/comments/${comment.id}`).set(auth(userId)).send({ text: 'again' }),
      request(t.app).delete(`/api/comments/${comment.id}`).set(auth(userId)),
    ]) {
      expect((await attempt).status).toBe(404);
    }
    // Soft delete: the row stays, marked.
    const row = await t.knex('comments').first('deleted_at').where({ id: comment.id });
    expect(row?.deleted_at).toBeInstanceOf(Date);
  });

  it('creates through the REST alias, taking the post from the path', async () => {
    const postId = newPost();
    const other = newPost();
    const res = await request(t.app)
      .post(`/api/posts/${postId}/comments`)
      .set(auth(7))
      .send({ text: 'via alias', post_id: other });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ post_id: postId, user_id: 7, text: 'via alias' });
    expect(await liveCount(other)).toBe(0);
  });

  it('writes comment.created, comment.updated and comment.deleted to the outbox with their payloads', async () => {
    const postId = newPost();
    const userId = uniqueUserId();
    const traceparent = `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`;
    const comment = await createComment(t, postId, userId);
    await request(t.app).put(`/api/comments/${comment.id}`).set(auth(userId)).send({ text: 'x' }).expect(200);
    await request(t.app)
      .delete(`/api/comments/${comment.id}`)
      .set(auth(userId))
      .set('traceparent', traceparent)
      .expect(204);
    const rows = await t
      .knex('outbox')
      .select('type', 'topic', 'key', 'envelope')
      .whereRaw("envelope->>'aggregate_id' = ?", [String(comment.id)])
      .orderBy('seq');
    expect(rows.map((r) => [r.type, r.topic, r.key])).toEqual([
      ['comment.created', 'blog.comments.v1', String(comment.id)],
      ['comment.updated', 'blog.comments.v1', String(comment.id)],
      ['comment.deleted', 'blog.comments.v1', String(comment.id)],
    ]);
    const [created, updated, deleted] = rows.map((r) => r.envelope);
    const ids = { id: comment.id, post_id: postId, user_id: userId };
    expect(created.payload).toEqual({ ...ids, created_at: comment.created_at });
    expect(Object.keys(updated.payload).sort()).toEqual(['id', 'post_id', 'updated_at', 'user_id']);
    expect(deleted.payload).toEqual({ ...ids, deleted_at: expect.any(String), reason: 'user' });
    expect(deleted).toMatchObject({
      source: 'comments',
      aggregate_type: 'comment',
      trace: { traceparent: childOf(traceparent) },
    });
  });
});

describe('input rules', () => {
  it('trims text and refuses empty, blank and over-long text with a 400 naming the field', async () => {
    const postId = newPost();
    for (const text of ['', '    ', '\n\t', 'a'.repeat(501)]) {
      const res = await request(t.app).post('/api/comments').set(auth(1)).send({ post_id: postId, text });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'text' } });
    }
    const comment = await createComment(t, postId, 1, 'x');
    const blank = await request(t.app).put(`/api/comments/${comment.id}`).set(auth(1)).send({ text: '   ' });
    expect(blank.status).toBe(400);
    expect((await request(t.app).get(`/api/comments/${comment.id}`)).body.text).toBe('x');
    expect(
      (
        await request(t.app)
          .post('/api/comments')
          .set(auth(1))
          .send({ post_id: postId, text: 'a'.repeat(500) })
      ).status,
    ).toBe(201);
  });

  it('never takes id, owner, counters, flags or timestamps from the client', async () => {
    const postId = newPost();
    const userId = uniqueUserId();
    const forged = {
      id: 1,
      user_id: 424242,
      like: 999,
      blocked: true,
      created_at: '2000-01-01T00:00:00.000Z',
      updated_at: '2000-01-01T00:00:00.000Z',
      deleted_at: '2000-01-01T00:00:00.000Z',
    };
    const created = await request(t.app)
      .post('/api/comments')
      .set(auth(userId))
      .send({ ...forged, post_id: postId, text: 'mine' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ user_id: userId, like: 0, blocked: false });
    expect(created.body.id).not.toBe(1);
    expect(created.body.created_at).not.toBe(forged.created_at);

    const otherPost = newPost();
    const updated = await request(t.app)
      .put(`/api/comments/${created.body.id}`)
      .set(auth(userId))
      .send({ ...forged, post_id: otherPost, text: 'changed' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      id: created.body.id,
      post_id: postId,
      user_id: userId,
      like: 0,
      blocked: false,
      text: 'changed',
      created_at: created.body.created_at,
    });
    const row = await t.knex('comments').first().where({ id: created.body.id });
    expect(row).toMatchObject({
      post_id: String(postId),
      user_id: String(userId),
      like: 0,
      blocked: false,
      deleted_at: null,
    });
  });

  it('checks the token before the body', async () => {
    const res = await request(t.app).post('/api/comments').send({ nonsense: true });
    expect(res).toMatchObject({ status: 401, body: { error: 'missing token' } });
    const format = await request(t.app)
      .post('/api/comments')
      .set('Authorization', 'Token abc')
      .send('{broken');
    expect(format).toMatchObject({ status: 401, body: { error: 'invalid token format' } });
    const invalid = await request(t.app).put('/api/comments/abc').set('Authorization', 'Bearer abc.def.ghi');
    expect(invalid).toMatchObject({ status: 401, body: { error: 'invalid token' } });
  });

  it('answers malformed JSON with 400 invalid request body', async () => {
    const res = await request(t.app)
      .post('/api/comments')
      .set(auth(1))
      .set('Content-Type', 'application/json')
      .send('{"post_id": 1,');
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid request body' } });
  });

  it('refuses tokens of a session within a second of auth listing it as revoked', async () => {
    const sessionId = randomUUID();
    const token = t.tokens.sign(5, { sessionId });
    const comment = () =>
      request(t.app)
        .post('/api/comments')
        .set('Authorization', bearer(token))
        .send({ post_id: newPost(), text: 'x' });
    expect((await comment()).status).toBe(201);
    t.revocationFeed.revoke(sessionId);
    const revokedAt = Date.now();
    const res = await waitFor(
      async () => {
        const r = await comment();
        return r.status === 401 ? r : undefined;
      },
      2000,
      20,
    );
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expect(res.body).toMatchObject({ error: 'invalid token' });
  });
});

describe('posts decides whether a post can be commented on', () => {
  const missingPost = (): number => uniquePostId();
  const deletedPost = (): number => {
    const id = newPost();
    posts.markDeleted(id);
    return id;
  };

  it.each([
    ['does not exist', missingPost],
    ['was deleted', deletedPost],
  ])(
    'answers 404 post not found when the post %s, on both routes, and stores nothing',
    async (_case, post) => {
      const postId = post();
      const direct = await request(t.app)
        .post('/api/comments')
        .set(auth(1))
        .send({ post_id: postId, text: 'x' });
      expect(direct).toMatchObject({ status: 404, body: { error: 'post not found', code: 'NOT_FOUND' } });
      const alias = await request(t.app)
        .post(`/api/posts/${postId}/comments`)
        .set(auth(1))
        .send({ text: 'x' });
      expect(alias).toMatchObject({ status: 404, body: { error: 'post not found' } });
      expect(await liveCount(postId)).toBe(0);
    },
  );

  it('asks for live posts only and passes the request id along', async () => {
    const postId = newPost();
    await request(t.app)
      .post('/api/comments')
      .set(auth(1))
      .set('X-Request-Id', 'req-comments-1')
      .send({ post_id: postId, text: 'x' })
      .expect(201);
    expect(posts.requests.filter((r) => r.id === postId)).toEqual([
      { id: postId, include_deleted: false, requestId: 'req-comments-1' },
    ]);
  });

  it('lists comments of a post it has never heard of as an empty list, without asking posts', async () => {
    const postId = uniquePostId();
    const res = await request(t.app).get(`/api/comments?post_id=${postId}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
    expect(res.headers['x-total-count']).toBe('0');
    expect((await request(t.app).get(`/api/posts/${postId}/comments`)).body).toEqual([]);
    expect(posts.requests.some((r) => r.id === postId)).toBe(false);
  });
});

describe('ids', () => {
  const BAD = ['abc', '-1', '+1', '0', '1.5', '99999999999999999999', '9007199254740993', '1e3'];
  const UNKNOWN = String(Number.MAX_SAFE_INTEGER);

  it('reads leading zeros as the old API did, in paths and in the post_id filter', async () => {
    const postId = newPost();
    const userId = uniqueUserId();
    const created = await request(t.app)
      .post(`/api/posts/00${postId}/comments`)
      .set(auth(userId))
      .send({ text: 'padded' });
    expect(created).toMatchObject({ status: 201, body: { post_id: postId } });
    const id = created.body.id as number;
    expect((await request(t.app).get(`/api/comments/00${id}`)).body).toMatchObject({ id, post_id: postId });
    expect((await request(t.app).get(`/api/comments?post_id=00${postId}`)).body).toMatchObject([{ id }]);
    expect((await request(t.app).get(`/api/posts/00${postId}/comments`)).body).toMatchObject([{ id }]);
    expect(
      await request(t.app).put(`/api/comments/00${id}`).set(auth(userId)).send({ text: 'still padded' }),
    ).toMatchObject({ status: 200, body: { id, text: 'still padded' } });
    expect((await request(t.app).delete(`/api/comments/00${id}`).set(auth(userId))).status).toBe(204);
  });

  it.each(BAD)('answers 400 for the comment id %p on every route', async (id) => {
    const cases = [
      request(t.app).get(`/api/comments/${id}`),
      request(t.app).put(`/api/comments/${id}`).set(auth(1)).send({ text: 'x' }),
      request(t.app).delete(`/api/comments/${id}`).set(auth(1)),
    ];
    for (const res of await Promise.all(cases)) {
      expect(res).toMatchObject({ status: 400, body: { error: 'invalid comment id', code: 'BAD_REQUEST' } });
    }
  });

  it.each(BAD)('answers 400 for the post id %p on every route', async (id) => {
    expect(await request(t.app).get(`/api/comments?post_id=${id}`)).toMatchObject({
      status: 400,
      body: { error: 'invalid post_id' },
    });
    expect(await request(t.app).get(`/api/posts/${id}/comments`)).toMatchObject({
      status: 400,
      body: { error: 'invalid post id' },
    });
    expect(
      await request(t.app).post(`/api/posts/${id}/comments`).set(auth(1)).send({ text: 'x' }),
    ).toMatchObject({ status: 400, body: { error: 'invalid post id' } });
    expect(
      await request(t.app).post('/api/comments').set(auth(1)).send({ post_id: id, text: 'x' }),
    ).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED', details: { field: 'post_id' } } });
  });

  it('answers 400 invalid post_id when the filter is missing or repeated', async () => {
    for (const query of ['', '?post_id=', '?post_id=1&post_id=2', '?postId=5']) {
      expect(await request(t.app).get(`/api/comments${query}`)).toMatchObject({
        status: 400,
        body: { error: 'invalid post_id' },
      });
    }
  });

  it('answers 404 comment not found for an unknown comment, never 500', async () => {
    const cases = [
      request(t.app).get(`/api/comments/${UNKNOWN}`),
      request(t.app).put(`/api/comments/${UNKNOWN}`).set(auth(1)).send({ text: 'x' }),
      request(t.app).delete(`/api/comments/${UNKNOWN}`).set(auth(1)),
    ];
    for (const res of await Promise.all(cases)) {
      expect(res).toMatchObject({ status: 404, body: { error: 'comment not found', code: 'NOT_FOUND' } });
    }
  });
});

describe('body limits (8 KiB of JSON, 1000 members, 16 levels)', () => {
  const raw = (body: string, token = t.tokens.sign(uniqueUserId())) =>
    request(t.app)
      .post('/api/comments')
      .set('Authorization', bearer(token))
      .set('Content-Type', 'application/json')
      .send(body);

  it('takes the longest comment, every character escaped', async () => {
    const postId = newPost();
    const body = escapedJson({ post_id: postId, text: '評'.repeat(500) });
    expect(body.length).toBeGreaterThan(3000);
    const res = await raw(body);
    expect(res.status).toBe(201);
    expect(res.body.text).toBe('評'.repeat(500));
  });

  it('refuses a body over 8 KiB with 413 before parsing it, a 350 000-key object too', async () => {
    for (const body of [wideJson(350_000), JSON.stringify({ post_id: newPost(), text: 'x'.repeat(9000) })]) {
      const res = await raw(body);
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        error: 'request body too large (at most 8kb)',
      });
    }
  });

  it('refuses a small body with too many members or levels with 400', async () => {
    expect((await raw(`[${'0,'.repeat(1000)}0]`)).body.error).toBe(
      'request body has too many fields (at most 1000)',
    );
    expect((await raw(`{"post_id":${'['.repeat(16)}1${']'.repeat(16)}}`)).body.error).toBe(
      'request body nests too deeply (at most 16 levels)',
    );
  });
});
