import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { Topics } from '@mpb/contracts';
import { api, newUser, platformTopic, type TestUser, uniq } from './client';

type Actor = 'owner' | 'other' | 'anonymous';

async function createPost(user: TestUser, patch: Record<string, unknown> = {}) {
  const res = await api('POST', '/api/posts', {
    token: user.token,
    body: { title: `Post ${uniq()}`, description: 'A description long enough.', tag: 'e2e', ...patch },
  });
  if (res.status !== 201) throw new Error(`create post: ${res.status} ${res.text}`);
  return res.body as { id: number; user_id: number };
}

async function createComment(user: TestUser, postId: number, text = 'a comment') {
  const res = await api('POST', `/api/posts/${postId}/comments`, { token: user.token, body: { text } });
  if (res.status !== 201) throw new Error(`create comment: ${res.status} ${res.text}`);
  return res.body as { id: number; post_id: number };
}

describe('posts and comments through the gateway', () => {
  let owner: TestUser;
  let other: TestUser;
  const tokenOf = (actor: Actor) =>
    actor === 'owner' ? owner.token : actor === 'other' ? other.token : undefined;

  beforeAll(async () => {
    [owner, other] = await Promise.all([newUser(), newUser()]);
  });

  describe('permission matrix', () => {
    // [resource, action, actor, expected status]
    const matrix: Array<[string, string, Actor, number]> = [
      ['post', 'read', 'owner', 200],
      ['post', 'read', 'other', 200],
      ['post', 'read', 'anonymous', 200],
      ['post', 'update', 'owner', 200],
      ['post', 'update', 'other', 403],
      ['post', 'update', 'anonymous', 401],
      ['post', 'delete', 'owner', 204],
      ['post', 'delete', 'other', 403],
      ['post', 'delete', 'anonymous', 401],
      ['comment', 'read', 'owner', 200],
      ['comment', 'read', 'other', 200],
      ['comment', 'read', 'anonymous', 200],
      ['comment', 'update', 'owner', 200],
      ['comment', 'update', 'other', 403],
      ['comment', 'update', 'anonymous', 401],
      ['comment', 'delete', 'owner', 204],
      ['comment', 'delete', 'other', 403],
      ['comment', 'delete', 'anonymous', 401],
    ];

    it.each(matrix)('%s %s by %s → %i', async (resource, action, actor, expected) => {
      const post = await createPost(owner);
      const comment = resource === 'comment' ? await createComment(owner, post.id) : undefined;
      const path = resource === 'post' ? `/api/posts/${post.id}` : `/api/comments/${comment!.id}`;
      const body = resource === 'post' ? { title: 'A changed title' } : { text: 'changed text' };
      const method = { read: 'GET', update: 'PUT', delete: 'DELETE' }[action]!;
      const res = await api(method, path, {
        token: tokenOf(actor),
        body: action === 'update' ? body : undefined,
      });
      expect(res.status).toBe(expected);
      if (expected === 403) {
        const noun = resource === 'post' ? 'posts' : 'comments';
        expect(res.body.error).toBe(`you can ${action} only your own ${noun}`);
        // The refused change did not happen.
        expect((await api('GET', path)).status).toBe(200);
      }
    });
  });

  it('keeps the old PostResponse fields and never takes server-owned fields from the body', async () => {
    const res = await api('POST', '/api/posts', {
      token: owner.token,
      body: {
        title: '  Mass assignment  ',
        description: 'Trying to set fields.',
        id: 1,
        user_id: other.id,
        like: 999,
        count_viewers: 999,
        created_at: '2000-01-01T00:00:00Z',
      },
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual([
      'count_viewers',
      'created_at',
      'description',
      'id',
      'like',
      'tag',
      'title',
      'updated_at',
      'user_id',
    ]);
    expect(res.body).toMatchObject({
      title: 'Mass assignment',
      user_id: owner.id,
      like: 0,
      count_viewers: 0,
    });
    expect(res.body.id).not.toBe(1);
    expect(res.body.created_at).not.toMatch(/^2000/);
  });

  it.each(['abc', '-1', '0', '99999999999999999999'])('refuses post id %s with 400', async (id) => {
    const res = await api('GET', `/api/posts/${id}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid post id');
  });

  it('answers unknown posts and comments with 404, and blank titles with 400', async () => {
    expect((await api('GET', '/api/posts/987654321')).body.error).toBe('post not found');
    expect((await api('GET', '/api/comments/987654321')).status).toBe(404);
    const blank = await api('POST', '/api/posts', {
      token: owner.token,
      body: { title: '     ', description: 'Description here.' },
    });
    expect(blank.status).toBe(400);
    const post = await createPost(owner);
    expect(
      (await api('PUT', `/api/posts/${post.id}`, { token: owner.token, body: { title: '   ' } })).status,
    ).toBe(400);
    const comment = await api('POST', '/api/comments', {
      token: owner.token,
      body: { post_id: 987654321, text: 'hello' },
    });
    expect(comment.status).toBe(404);
    expect(comment.body.error).toBe('post not found');
  });

  it('pages lists with a bounded limit, X-Total-Count and Link', async () => {
    const tag = uniq('t');
    for (let i = 0; i < 3; i += 1) await createPost(owner, { tag });
    const page = await api('GET', `/api/posts?tag=${tag}&limit=2`);
    expect(page.status).toBe(200);
    expect(Array.isArray(page.body)).toBe(true);
    expect(page.body).toHaveLength(2);
    expect(page.headers.get('x-total-count')).toBe('3');
    expect(page.headers.get('link')).toContain('rel="next"');
    const clamped = await api('GET', `/api/posts?limit=1000`);
    expect(clamped.status).toBe(200);
    expect(clamped.body.length).toBeLessThanOrEqual(100);
    expect((await api('GET', '/api/posts?limit=abc')).status).toBe(400);
    expect((await api('GET', '/api/comments?post_id=abc')).body.error).toBe('invalid post_id');
  });

  describe('deleting a post', () => {
    let consumer: Consumer;
    const deleted: Array<{ key?: string; type: string; payload: { id: number; post_id: number } }> = [];

    beforeAll(async () => {
      const kafka = new Kafka({
        clientId: 'e2e-cascade',
        brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
        logLevel: logLevel.NOTHING,
      });
      consumer = kafka.consumer({ groupId: uniq('e2e-cascade-'), maxWaitTimeInMs: 200 });
      await consumer.connect();
      await consumer.subscribe({ topic: platformTopic(Topics.comments), fromBeginning: false });
      const joined = new Promise<void>((resolve) => {
        const off = consumer.on(consumer.events.GROUP_JOIN, () => {
          off();
          resolve();
        });
      });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const e = JSON.parse(message.value?.toString() ?? '{}');
          if (e.type === 'comment.deleted') deleted.push({ key: message.key?.toString(), ...e });
        },
      });
      await joined;
    });

    afterAll(async () => {
      await consumer?.disconnect();
    });

    it('removes its comments within seconds, seen through the API and on Kafka', async () => {
      const post = await createPost(owner);
      const comments = await Promise.all([
        createComment(owner, post.id, 'one'),
        createComment(other, post.id, 'two'),
        createComment(other, post.id, 'three'),
      ]);
      expect((await api('GET', `/api/posts/${post.id}/comments`)).body).toHaveLength(3);

      expect((await api('DELETE', `/api/posts/${post.id}`, { token: owner.token })).status).toBe(204);
      expect((await api('GET', `/api/posts/${post.id}`)).status).toBe(404);

      const deadline = Date.now() + 15000;
      // Hidden at once (the list is a 404 like the post); the events show the cascade ran.
      while (Date.now() < deadline) {
        const events = deleted.filter((e) => e.payload.post_id === post.id);
        if (events.length === 3) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(await api('GET', `/api/comments?post_id=${post.id}`)).toMatchObject({
        status: 404,
        body: { error: 'post not found' },
      });
      for (const c of comments) expect((await api('GET', `/api/comments/${c.id}`)).status).toBe(404);
      const events = deleted.filter((e) => e.payload.post_id === post.id);
      expect(events.map((e) => e.payload.id).sort()).toEqual(comments.map((c) => c.id).sort());
      for (const e of events) expect(e.key).toBe(String(e.payload.id));
      // A comment on the deleted post is refused.
      expect(
        (await api('POST', `/api/posts/${post.id}/comments`, { token: other.token, body: { text: 'late' } }))
          .status,
      ).toBe(404);
    });
  });
});
