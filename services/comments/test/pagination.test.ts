import request from 'supertest';
import type { CommentBody } from './helpers/api';
import { uniquePostId } from './helpers/factories';
import { startTestComments, type TestComments } from './helpers/harness';
import { PostServiceStandIn } from './helpers/post-stand-in';
import { bearer } from './helpers/tokens';

let t: TestComments;
const posts = new PostServiceStandIn();
const postId = uniquePostId();
/** The post's comments as created, oldest first. */
const created: CommentBody[] = [];

beforeAll(async () => {
  t = await startTestComments({ postsAddress: await posts.start() });
  posts.add(postId);
  for (let i = 0; i < 25; i += 1) {
    const res = await request(t.app)
      .post(`/api/posts/${postId}/comments`)
      .set('Authorization', bearer(t.tokens.sign(1 + (i % 3))))
      .send({ text: `comment ${i}` });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
    created.push(res.body as CommentBody);
  }
});

afterAll(async () => {
  await t.close();
  await posts.stop();
});

const newestFirst = (): number[] => created.map((c) => c.id).reverse();
const links = (header: string | undefined): Record<string, string> =>
  Object.fromEntries(
    (header ?? '').split(', ').map((part) => {
      const [, target, rel] = /^<([^>]+)>; rel="([a-z]+)"$/.exec(part) ?? [];
      return [rel, target];
    }),
  );

describe("listing a post's comments", () => {
  it('answers the first 20, newest first, as a bare array with the total and links in headers', async () => {
    const res = await request(t.app).get(`/api/comments?post_id=${postId}`);
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    expect(res.body.map((c: CommentBody) => c.id)).toEqual(newestFirst().slice(0, 20));
    expect(res.headers['x-total-count']).toBe('25');
    expect(links(res.headers.link)).toEqual({
      first: `/api/comments?post_id=${postId}&page=1&limit=20`,
      next: `/api/comments?post_id=${postId}&page=2&limit=20`,
      last: `/api/comments?post_id=${postId}&page=2&limit=20`,
    });
  });

  it('follows the links to the rest', async () => {
    const first = await request(t.app).get(`/api/comments?post_id=${postId}&limit=10`);
    const second = await request(t.app).get(links(first.headers.link).next!);
    const third = await request(t.app).get(links(second.headers.link).next!);
    expect([...first.body, ...second.body, ...third.body].map((c: CommentBody) => c.id)).toEqual(
      newestFirst(),
    );
    expect(links(third.headers.link).next).toBeUndefined();
    // The client's parameter order is kept; the page it did not send comes last.
    expect(links(third.headers.link).prev).toBe(`/api/comments?post_id=${postId}&limit=10&page=2`);
  });

  it('pages the REST alias the same way, with links to the alias', async () => {
    const res = await request(t.app).get(`/api/posts/${postId}/comments?page=2&limit=20`);
    expect(res.body.map((c: CommentBody) => c.id)).toEqual(newestFirst().slice(20));
    expect(res.headers['x-total-count']).toBe('25');
    expect(links(res.headers.link).prev).toBe(`/api/posts/${postId}/comments?page=1&limit=20`);
  });

  it('clamps a limit over the maximum', async () => {
    const res = await request(t.app).get(`/api/comments?post_id=${postId}&limit=1000`);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(25);
  });

  it.each([
    ['limit=0', 'invalid limit'],
    ['limit=-3', 'invalid limit'],
    ['page=0&limit=5', 'invalid page'],
    ['page=-1', 'invalid page'],
  ])('refuses %s with a 400, as the API document (minimum 1) and posts do', async (query, message) => {
    const res = await request(t.app).get(`/api/comments?post_id=${postId}&${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe(message);
  });

  it('caps a page at 100', async () => {
    const res = await request(t.app).get(`/api/comments?post_id=${postId}&limit=500`);
    expect(links(res.headers.link).first).toContain('limit=100');
  });

  it('answers an empty page beyond the end, still with the total', async () => {
    const res = await request(t.app).get(`/api/comments?post_id=${postId}&page=501`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
    expect(res.headers['x-total-count']).toBe('25');
  });

  it('refuses a page that would skip more than 10 000 comments, on both paths', async () => {
    for (const path of [
      `/api/comments?post_id=${postId}&page=502`,
      `/api/posts/${postId}/comments?page=999999999999`,
      `/api/comments?post_id=${postId}&page=102&limit=100`,
    ]) {
      const res = await request(t.app).get(path);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        error: expect.stringMatching(
          /^page must be at most \d+ for limit \d+: at most 10000 comments are skipped$/,
        ),
        code: 'BAD_REQUEST',
      });
    }
  });

  it.each([
    ['page=abc', 'invalid page'],
    ['page=1.5', 'invalid page'],
    ['limit=ten', 'invalid limit'],
    ['limit=', 'invalid limit'],
    ['page=%2B2', 'invalid page'],
  ])('refuses %s with a 400', async (query, error) => {
    for (const path of [
      `/api/comments?post_id=${postId}&${query}`,
      `/api/posts/${postId}/comments?${query}`,
    ]) {
      expect(await request(t.app).get(path)).toMatchObject({
        status: 400,
        body: { error, code: 'BAD_REQUEST' },
      });
    }
  });

  it('leaves deleted comments out of the page and the total', async () => {
    const victim = created[24]!;
    await request(t.app)
      .delete(`/api/comments/${victim.id}`)
      .set('Authorization', bearer(t.tokens.sign(victim.user_id)))
      .expect(204);
    created.pop();
    const res = await request(t.app).get(`/api/comments?post_id=${postId}&limit=100`);
    expect(res.headers['x-total-count']).toBe('24');
    expect(res.body.map((c: CommentBody) => c.id)).toEqual(newestFirst());
  });
});
