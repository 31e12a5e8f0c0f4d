import request from 'supertest';
import { waitFor } from '@mpb/test-kit';
import { bearer, createPost, newPost, newUserId } from './helpers/factories';
import { startTestPosts, type TestPosts } from './helpers/harness';

let t: TestPosts;

beforeAll(async () => {
  t = await startTestPosts();
});

afterAll(async () => {
  await t.close();
});

const storedRow = (id: number) => t.knex('posts').first('*').where({ id });

describe("the old API's field types", () => {
  it.each([
    ['no tag', {}],
    ['a null tag', { tag: null }],
    ['an empty tag', { tag: '' }],
    ['a tag of spaces', { tag: '   ' }],
  ])('answers an untagged post (%s) with "tag": "" wherever a post is answered', async (_name, fields) => {
    const owner = newUserId();
    const token = t.tokenFor(owner);
    const { tag: _tag, ...base } = newPost();
    const created = await request(t.app)
      .post('/api/posts')
      .set('Authorization', bearer(token))
      .send({ ...base, ...fields });
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    const read = await request(t.app).get(`/api/posts/${id}`);
    const list = await request(t.app).get(`/api/posts?user_id=${owner}`);
    const updated = await request(t.app)
      .put(`/api/posts/${id}`)
      .set('Authorization', bearer(token))
      .send({ title: 'Still untagged' });
    for (const body of [created.body, read.body, list.body[0], updated.body]) {
      expect(body.tag).toBe('');
      expect(typeof body.like).toBe('number');
      expect(typeof body.count_viewers).toBe('number');
    }
    expect(await storedRow(id)).toMatchObject({ tag: null });
  });
});

describe('creating, reading, updating and deleting a post', () => {
  it('walks the whole life of a post', async () => {
    const owner = newUserId();
    const token = t.tokenFor(owner);
    const input = newPost({ title: '  My first post  ', tag: ' news ' });

    const created = await request(t.app).post('/api/posts').set('Authorization', bearer(token)).send(input);
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(
      [
        'count_viewers',
        'created_at',
        'description',
        'id',
        'like',
        'tag',
        'title',
        'updated_at',
        'user_id',
      ].sort(),
    );
    expect(created.body).toMatchObject({
      user_id: owner,
      title: 'My first post',
      description: input.description,
      tag: 'news',
      like: 0,
      count_viewers: 0,
    });
    expect(created.headers.location).toBe(`/api/posts/${created.body.id}`);
    const id = created.body.id as number;

    const read = await request(t.app).get(`/api/posts/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    expect(read.headers['cache-control']).toBe('no-store');

    const updated = await request(t.app)
      .put(`/api/posts/${id}`)
      .set('Authorization', bearer(token))
      .send({ title: ' Renamed ', description: 'A brand new description' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      id,
      user_id: owner,
      title: 'Renamed',
      description: 'A brand new description',
      tag: 'news',
      created_at: created.body.created_at,
    });
    expect(Date.parse(updated.body.updated_at)).toBeGreaterThan(Date.parse(created.body.updated_at));

    const deleted = await request(t.app).delete(`/api/posts/${id}`).set('Authorization', bearer(token));
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    const row = await storedRow(id);
    expect(row.deleted_at).toBeInstanceOf(Date);

    for (const res of [
      await request(t.app).get(`/api/posts/${id}`),
      await request(t.app)
        .put(`/api/posts/${id}`)
        .set('Authorization', bearer(token))
        .send({ title: 'Again' }),
      await request(t.app).delete(`/api/posts/${id}`).set('Authorization', bearer(token)),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: 'post not found', code: 'NOT_FOUND' });
    }
  });

  it('keeps absent and null fields on update, and removes the tag on an empty one', async () => {
    const token = t.tokenFor(newUserId());
    const post = await createPost(t.app, token, newPost({ tag: 'keep' }));
    const put = (body: object) =>
      request(t.app).put(`/api/posts/${post.id}`).set('Authorization', bearer(token)).send(body);

    const nulls = await put({ title: null, description: null, tag: null });
    expect(nulls.status).toBe(200);
    expect(nulls.body).toMatchObject({ title: post.title, description: post.description, tag: 'keep' });
    // Nothing changed: nothing written.
    expect(nulls.body.updated_at).toBe(post.updated_at);

    const titleOnly = await put({ title: 'Only the title' });
    expect(titleOnly.body).toMatchObject({
      title: 'Only the title',
      description: post.description,
      tag: 'keep',
    });

    const cleared = await put({ tag: '' });
    expect(cleared.body.tag).toBe('');
    expect((await storedRow(post.id)).tag).toBeNull();
  });
});

describe('fields a client may not set', () => {
  it('ignores id, user_id, like, count_viewers and timestamps on create', async () => {
    const owner = newUserId();
    const someoneElse = newUserId();
    const res = await request(t.app)
      .post('/api/posts')
      .set('Authorization', bearer(t.tokenFor(owner)))
      .send({
        ...newPost(),
        id: 987_654_321_012,
        user_id: someoneElse,
        like: 100,
        count_viewers: 1000,
        created_at: '2001-01-01T00:00:00.000Z',
        updated_at: '2001-01-01T00:00:00.000Z',
        deleted_at: '2001-01-01T00:00:00.000Z',
      });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ user_id: owner, like: 0, count_viewers: 0 });
    expect(res.body.id).not.toBe(987_654_321_012);
    expect(await storedRow(987_654_321_012)).toBeUndefined();
    const row = await storedRow(res.body.id);
    expect(Number(row.user_id)).toBe(owner);
    expect(row.deleted_at).toBeNull();
    expect(Date.now() - row.created_at.getTime()).toBeLessThan(60_000);
    expect(Object.keys(row)).not.toContain('like');
  });

  it('ignores them on update too', async () => {
    const owner = newUserId();
    const token = t.tokenFor(owner);
    const post = await createPost(t.app, token);
    const res = await request(t.app)
      .put(`/api/posts/${post.id}`)
      .set('Authorization', bearer(token))
      .send({
        id: post.id + 1,
        user_id: newUserId(),
        like: 5,
        count_viewers: 50,
        created_at: '2001-01-01T00:00:00.000Z',
        title: 'Still mine',
      });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: post.id,
      user_id: owner,
      title: 'Still mine',
      created_at: post.created_at,
    });
    const row = await storedRow(post.id);
    expect(Number(row.user_id)).toBe(owner);
    expect(row.created_at.toISOString()).toBe(post.created_at);
  });
});

describe('validation', () => {
  it.each([
    ['spaces', '     '],
    ['empty', ''],
    ['tabs and newlines', '\t\n  \t'],
    ['two characters after trimming', '  ab  '],
  ])('refuses a title of %s on create', async (_name, title) => {
    const res = await request(t.app)
      .post('/api/posts')
      .set('Authorization', bearer(t.tokenFor(newUserId())))
      .send(newPost({ title }));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.error).toMatch(/title/);
  });

  it.each([
    ['spaces', '     '],
    ['empty', ''],
    ['tabs and newlines', '\t\n  \t'],
  ])('refuses a title of %s on update and keeps the stored one', async (_name, title) => {
    const token = t.tokenFor(newUserId());
    const post = await createPost(t.app, token);
    const res = await request(t.app)
      .put(`/api/posts/${post.id}`)
      .set('Authorization', bearer(token))
      .send({ title });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/title/);
    expect((await storedRow(post.id)).title).toBe(post.title);
  });

  it.each([
    ['a short description', { description: 'too short' }],
    ['a long description', { description: 'x'.repeat(20_001) }],
    ['a long tag', { tag: 't'.repeat(51) }],
    ['a NUL in the description', { description: 'ten characters\u0000' }],
    ['a title that is not a string', { title: 42 }],
  ])('refuses %s', async (_name, override) => {
    const res = await request(t.app)
      .post('/api/posts')
      .set('Authorization', bearer(t.tokenFor(newUserId())))
      .send({ ...newPost(), ...override });
    expect(res.status).toBe(400);
  });

  it('takes the longest post, every character of it escaped (128 KiB of JSON at most)', async () => {
    const post = { title: '題'.repeat(200), description: '説'.repeat(20_000), tag: '標'.repeat(50) };
    const body = JSON.stringify(post).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    expect(body.length).toBeGreaterThan(120_000);
    const res = await request(t.app)
      .post('/api/posts')
      .set('Authorization', bearer(t.tokenFor(newUserId())))
      .set('Content-Type', 'application/json')
      .send(body);
    expect(res.status).toBe(201);
    expect(res.body.description).toBe(post.description);
  });

  it('refuses a body over 128 KiB, or with too many members, before parsing it', async () => {
    const token = bearer(t.tokenFor(newUserId()));
    const raw = (body: string) =>
      request(t.app)
        .post('/api/posts')
        .set('Authorization', token)
        .set('Content-Type', 'application/json')
        .send(body);
    const tooLarge = await raw(`{${Array.from({ length: 350_000 }, (_, i) => `"k${i}":0`).join(',')}}`);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      error: 'request body too large (at most 128kb)',
    });
    const wide = await raw(`{${Array.from({ length: 1001 }, (_, i) => `"k${i}":0`).join(',')}}`);
    expect(wide.status).toBe(400);
    expect(wide.body.error).toBe('request body has too many fields (at most 1000)');
  });

  it('answers 400 for malformed JSON and 413 for an oversized body', async () => {
    const token = bearer(t.tokenFor(newUserId()));
    const malformed = await request(t.app)
      .post('/api/posts')
      .set('Authorization', token)
      .set('Content-Type', 'application/json')
      .send('{"title": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('invalid request body');
    const huge = await request(t.app)
      .post('/api/posts')
      .set('Authorization', token)
      .send({ ...newPost(), description: 'x'.repeat(300 * 1024) });
    expect(huge.status).toBe(413);
  });
});

describe('post ids', () => {
  const badIds = ['abc', '-1', '+1', '0', '99999999999999999999', '1.5', '1e3', '9007199254740993'];

  it('reads leading zeros as the old API did: /api/posts/007 is post 7, for read, update and delete', async () => {
    const owner = newUserId();
    const token = bearer(t.tokenFor(owner));
    const created = await request(t.app).post('/api/posts').set('Authorization', token).send(newPost());
    const padded = `000${created.body.id as number}`;
    const read = await request(t.app).get(`/api/posts/${padded}`);
    expect(read.status).toBe(200);
    expect(read.body.id).toBe(created.body.id);
    const updated = await request(t.app)
      .put(`/api/posts/${padded}`)
      .set('Authorization', token)
      .send({ title: 'Padded title' });
    expect(updated.body).toMatchObject({ id: created.body.id, title: 'Padded title' });
    expect((await request(t.app).delete(`/api/posts/${padded}`).set('Authorization', token)).status).toBe(
      204,
    );
    expect((await request(t.app).get(`/api/posts/${created.body.id as number}`)).status).toBe(404);
  });

  it.each(badIds)('answers 400 invalid post id for %s on read, update and delete', async (id) => {
    const token = bearer(t.tokenFor(newUserId()));
    for (const res of [
      await request(t.app).get(`/api/posts/${id}`),
      await request(t.app).put(`/api/posts/${id}`).set('Authorization', token).send({ title: 'Valid title' }),
      await request(t.app).delete(`/api/posts/${id}`).set('Authorization', token),
    ]) {
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid post id', code: 'BAD_REQUEST' });
    }
  });

  it('answers 404 post not found for an unknown id', async () => {
    const token = bearer(t.tokenFor(newUserId()));
    const id = Number.MAX_SAFE_INTEGER;
    for (const res of [
      await request(t.app).get(`/api/posts/${id}`),
      await request(t.app).put(`/api/posts/${id}`).set('Authorization', token).send({ title: 'Valid title' }),
      await request(t.app).delete(`/api/posts/${id}`).set('Authorization', token),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('post not found');
    }
  });
});

describe('authentication', () => {
  it('checks the token before the body', async () => {
    const res = await request(t.app).post('/api/posts').send({ title: '' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('missing token');
  });

  it.each([
    ['Basic abc', 'invalid token format'],
    ['Bearer not.a.jwt', 'invalid token'],
  ])('refuses the header %s with %s', async (header, message) => {
    const res = await request(t.app).post('/api/posts').set('Authorization', header).send(newPost());
    expect(res.status).toBe(401);
    expect(res.body.error).toBe(message);
  });

  it('refuses tokens for another audience or of another type', async () => {
    const userId = newUserId();
    for (const token of [
      t.keys.sign(userId, { audience: 'someone-else' }),
      t.keys.sign(userId, { typ: 'refresh' }),
    ]) {
      const res = await request(t.app).post('/api/posts').set('Authorization', bearer(token)).send(newPost());
      expect(res.status).toBe(401);
    }
    // A bad token on a public read is refused too, rather than silently read as anonymous.
    const post = await createPost(t.app, t.tokenFor(userId));
    expect(
      (await request(t.app).get(`/api/posts/${post.id}`).set('Authorization', 'Bearer junk')).status,
    ).toBe(401);
  });

  it("refuses a session's tokens within a second of auth listing it as revoked, asking auth nothing per request", async () => {
    const userId = newUserId();
    const sessionId = `session-${userId}`;
    const token = t.keys.sign(userId, { sessionId });
    expect(
      (await request(t.app).post('/api/posts').set('Authorization', bearer(token)).send(newPost())).status,
    ).toBe(201);
    const reads = t.revocationFeed.reads();
    for (let i = 0; i < 20; i += 1)
      await request(t.app).get('/api/posts?limit=1').set('Authorization', bearer(token));
    // Twenty requests in less than one polling interval or two: no read of the feed per request.
    expect(t.revocationFeed.reads() - reads).toBeLessThan(10);

    t.revocationFeed.revoke(sessionId);
    const revokedAt = Date.now();
    const refused = await waitFor(
      async () => {
        const res = await request(t.app)
          .post('/api/posts')
          .set('Authorization', bearer(token))
          .send(newPost());
        return res.status === 401 ? res : undefined;
      },
      2000,
      20,
    );
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expect(refused.body.error).toBe('invalid token');
    // Other sessions of the same user are not affected.
    const other = t.keys.sign(userId, { sessionId: `${sessionId}-other` });
    expect(
      (await request(t.app).post('/api/posts').set('Authorization', bearer(other)).send(newPost())).status,
    ).toBe(201);
  });
});
