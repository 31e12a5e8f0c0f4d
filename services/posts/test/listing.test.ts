import request from 'supertest';
import { bearer, createPost, newPost, newUserId, suffix } from './helpers/factories';
import { startTestPosts, type TestPosts } from './helpers/harness';

let t: TestPosts;

beforeAll(async () => {
  t = await startTestPosts();
});

afterAll(async () => {
  await t.close();
});

/** Inserts posts straight into the table (fast), the first one newest; returns their ids in list order. */
async function seed(
  userId: number,
  count: number,
  o: { tag?: string; sameTime?: boolean } = {},
): Promise<number[]> {
  const base = Date.now();
  const rows = Array.from({ length: count }, (_, i) => ({
    user_id: userId,
    title: `Seeded post ${i}`,
    description: 'Seeded description',
    tag: o.tag ?? null,
    created_at: new Date(o.sameTime ? base : base - i * 1000),
  }));
  const inserted = (await t.knex('posts').insert(rows).returning('id')) as Array<{ id: string }>;
  const ids = inserted.map((r) => Number(r.id));
  // Newest first; equal times fall back to the larger id first.
  return o.sameTime ? [...ids].sort((a, b) => b - a) : ids;
}

/** The Link header as { rel: target }. */
function links(header: string | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const part of (header ?? '').split(', ')) {
    const match = /^<([^>]*)>; rel="([a-z]+)"$/.exec(part);
    if (match) result[match[2]!] = match[1]!;
  }
  return result;
}

const ids = (body: Array<{ id: number }>) => body.map((p) => p.id);

describe('GET /api/posts', () => {
  it('lists newest first as a bare array, with the total and page links in headers', async () => {
    const userId = newUserId();
    const seeded = await seed(userId, 5);
    const res = await request(t.app).get(`/api/posts?user_id=${userId}&limit=2`);
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    expect(ids(res.body)).toEqual(seeded.slice(0, 2));
    // The old API's types: an untagged post's tag is the empty string, never null.
    expect(res.body[0]).toMatchObject({ user_id: userId, like: 0, count_viewers: 0, tag: '' });
    expect(res.headers['x-total-count']).toBe('5');
    expect(links(res.headers.link)).toEqual({
      first: `/api/posts?user_id=${userId}&limit=2&page=1`,
      next: `/api/posts?user_id=${userId}&limit=2&page=2`,
      last: `/api/posts?user_id=${userId}&limit=2&page=3`,
    });
  });

  it('walks every page once by following the links', async () => {
    const userId = newUserId();
    const seeded = await seed(userId, 5);
    const seen: number[] = [];
    let next: string | undefined = `/api/posts?user_id=${userId}&limit=2`;
    let pages = 0;
    while (next) {
      const res = await request(t.app).get(next);
      expect(res.status).toBe(200);
      seen.push(...ids(res.body));
      next = links(res.headers.link).next;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(seeded);
  });

  it('orders posts created at the same moment by id, newest first', async () => {
    const userId = newUserId();
    const seeded = await seed(userId, 4, { sameTime: true });
    const res = await request(t.app).get(`/api/posts?user_id=${userId}`);
    expect(ids(res.body)).toEqual(seeded);
  });

  it('clamps a limit of 1000 to 100', async () => {
    const userId = newUserId();
    await seed(userId, 101);
    const res = await request(t.app).get(`/api/posts?user_id=${userId}&limit=1000`);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(100);
    expect(res.headers['x-total-count']).toBe('101');
    expect(links(res.headers.link).next).toBe(`/api/posts?user_id=${userId}&limit=100&page=2`);
    const second = await request(t.app).get(links(res.headers.link).next!);
    expect(second.body).toHaveLength(1);
  });

  it('serves 20 by default and never more than 100 unfiltered', async () => {
    await seed(newUserId(), 21);
    const byDefault = await request(t.app).get('/api/posts');
    expect(byDefault.body).toHaveLength(20);
    expect(Number(byDefault.headers['x-total-count'])).toBeGreaterThanOrEqual(21);
    const created = byDefault.body.map((p: { created_at: string }) => Date.parse(p.created_at));
    expect([...created].sort((a, b) => b - a)).toEqual(created);
    const most = await request(t.app).get('/api/posts?limit=100000');
    expect(most.body.length).toBeLessThanOrEqual(100);
  });

  it.each([
    ['limit=abc', 'invalid limit'],
    ['limit=0', 'invalid limit'],
    ['limit=-5', 'invalid limit'],
    ['page=0', 'invalid page'],
    ['page=-1', 'invalid page'],
    ['page=abc', 'invalid page'],
    ['page=2.5', 'invalid page'],
    ['user_id=abc', 'invalid user_id'],
    ['user_id=0', 'invalid user_id'],
    [`tag=${'t'.repeat(51)}`, 'tag must be 1 to 50 characters'],
  ])('answers 400 for %s', async (query, message) => {
    const res = await request(t.app).get(`/api/posts?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: message, code: 'BAD_REQUEST' });
  });

  it('filters by tag and by author, together or apart', async () => {
    const tag = `t-${suffix()}`;
    const alice = newUserId();
    const bob = newUserId();
    const aliceTagged = await seed(alice, 2, { tag });
    const bobTagged = await seed(bob, 1, { tag });
    await seed(alice, 3, { tag: `other-${suffix()}` });

    const byTag = await request(t.app).get(`/api/posts?tag=${tag}`);
    expect(byTag.headers['x-total-count']).toBe('3');
    expect(new Set(ids(byTag.body))).toEqual(new Set([...aliceTagged, ...bobTagged]));

    const byBoth = await request(t.app).get(`/api/posts?tag=${tag}&user_id=${alice}`);
    expect(ids(byBoth.body)).toEqual(aliceTagged);
    expect(byBoth.headers['x-total-count']).toBe('2');

    const byAuthor = await request(t.app).get(`/api/posts?user_id=${alice}`);
    expect(byAuthor.headers['x-total-count']).toBe('5');
  });

  it('leaves deleted posts out of the page and the total', async () => {
    const userId = newUserId();
    const token = t.tokenFor(userId);
    const kept = await createPost(t.app, token, newPost());
    const gone = await createPost(t.app, token, newPost());
    expect(
      (await request(t.app).delete(`/api/posts/${gone.id}`).set('Authorization', bearer(token))).status,
    ).toBe(204);
    const res = await request(t.app).get(`/api/posts?user_id=${userId}`);
    expect(ids(res.body)).toEqual([kept.id]);
    expect(res.headers['x-total-count']).toBe('1');
  });

  it('answers an empty page past the end, with the total and a way back', async () => {
    const userId = newUserId();
    await seed(userId, 3);
    const res = await request(t.app).get(`/api/posts?user_id=${userId}&limit=2&page=5`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
    expect(res.headers['x-total-count']).toBe('3');
    expect(links(res.headers.link)).toMatchObject({
      prev: `/api/posts?user_id=${userId}&limit=2&page=2`,
      last: `/api/posts?user_id=${userId}&limit=2&page=2`,
    });
    const nobody = await request(t.app).get(`/api/posts?user_id=${newUserId()}`);
    expect(nobody.body).toEqual([]);
    expect(nobody.headers['x-total-count']).toBe('0');
  });
});

describe('bounded lists', () => {
  it('counts at most 10 100 posts, links to the deepest reachable page and refuses deeper ones with a 400', async () => {
    const userId = newUserId();
    const rows = Array.from({ length: 10_150 }, (_, i) => ({
      user_id: userId,
      title: `Many ${i}`,
      description: 'Seeded description',
      created_at: new Date(Date.now() - i * 1000),
    }));
    for (let i = 0; i < rows.length; i += 2000) await t.knex('posts').insert(rows.slice(i, i + 2000));

    const first = await request(t.app).get(`/api/posts?user_id=${userId}`);
    expect(first.status).toBe(200);
    expect(first.headers['x-total-count']).toBe('10100');
    // (501 - 1) × 20 = 10 000 skipped posts: the deepest page of 20.
    expect(links(first.headers.link).last).toBe(`/api/posts?user_id=${userId}&page=501&limit=20`);

    const deepest = await request(t.app).get(`/api/posts?user_id=${userId}&page=501`);
    expect(deepest.status).toBe(200);
    expect(deepest.body).toHaveLength(20);
    expect(deepest.body[0].title).toBe('Many 10000');
    expect(links(deepest.headers.link).next).toBeUndefined();

    for (const page of ['502', '100000000']) {
      const tooDeep = await request(t.app).get(`/api/posts?user_id=${userId}&page=${page}`);
      expect(tooDeep.status).toBe(400);
      expect(tooDeep.body).toMatchObject({
        error: expect.stringMatching(
          /^page must be at most 501 for limit 20: at most 10000 posts are skipped/,
        ),
        code: 'BAD_REQUEST',
      });
    }
  });
});
