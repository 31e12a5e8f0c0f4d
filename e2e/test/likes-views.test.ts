import { api, newUser, type TestUser } from './client';

async function createPost(user: TestUser) {
  const res = await api('POST', '/api/posts', {
    token: user.token,
    body: { title: 'Counted post', description: 'A post to like and view.' },
  });
  if (res.status !== 201) throw new Error(`create post: ${res.status} ${res.text}`);
  return res.body as { id: number };
}

describe('likes and views through the gateway', () => {
  let author: TestUser;
  let reader: TestUser;

  beforeAll(async () => {
    [author, reader] = await Promise.all([newUser(), newUser()]);
  });

  it('likes once, refuses a second like, unlikes once, with the old messages', async () => {
    const post = await createPost(author);
    const like = await api('POST', `/api/posts/${post.id}/like`, { token: reader.token });
    expect(like.status).toBe(200);
    expect(like.body).toEqual({ post_id: post.id, likes: 1, message: 'Post liked successfully' });

    const again = await api('POST', `/api/posts/${post.id}/like`, { token: reader.token });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('user already liked this post');

    const state = await api('GET', `/api/posts/${post.id}/like`, { token: reader.token });
    expect(state.body).toMatchObject({ post_id: post.id, likes: 1, liked: true });

    const unlike = await api('DELETE', `/api/posts/${post.id}/unlike`, { token: reader.token });
    expect(unlike.status).toBe(200);
    expect(unlike.body).toEqual({ post_id: post.id, likes: 0, message: 'Post unliked successfully' });

    const unlikeAgain = await api('DELETE', `/api/posts/${post.id}/like`, { token: reader.token });
    expect(unlikeAgain.status).toBe(400);
    expect(unlikeAgain.body.error).toBe("user hasn't liked this post");
  });

  it('counts likes of a post created a moment ago, shown by the post and the list', async () => {
    const post = await createPost(author);
    expect((await api('POST', `/api/posts/${post.id}/like`, { token: reader.token })).status).toBe(200);
    expect((await api('POST', `/api/posts/${post.id}/like`, { token: author.token })).status).toBe(200);
    const one = await api('GET', `/api/posts/${post.id}`);
    expect(one.body.like).toBe(2);
    const list = await api('GET', `/api/posts?user_id=${author.id}&limit=100`);
    expect(list.body.find((p: { id: number }) => p.id === post.id)?.like).toBe(2);
  });

  // The platform runs the default VIEW_DEDUP_SECONDS (view-dedup.test.ts has the details).
  it("counts a reader's view once, in the read that returns it; each other reader's too", async () => {
    const post = await createPost(author);
    const first = await api('GET', `/api/posts/${post.id}`);
    const second = await api('GET', `/api/posts/${post.id}`);
    const signedIn = await api('GET', `/api/posts/${post.id}`, { token: reader.token });
    expect(first.body.count_viewers).toBe(1);
    expect(second.body.count_viewers).toBe(1);
    expect(signedIn.body.count_viewers).toBe(2);
    expect([first, second, signedIn].map((r) => r.headers.get('x-view-recorded'))).toEqual([
      'true',
      'false',
      'true',
    ]);
  });

  it('answers a like of a missing or deleted post with 404, and keeps counting others', async () => {
    const missing = await api('POST', '/api/posts/987654321/like', { token: reader.token });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('post not found');

    const doomed = await createPost(author);
    expect((await api('DELETE', `/api/posts/${doomed.id}`, { token: author.token })).status).toBe(204);
    const deadline = Date.now() + 15000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await api('POST', `/api/posts/${doomed.id}/like`, { token: reader.token })).status;
      if (status === 404) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(404);

    const alive = await createPost(author);
    expect((await api('POST', `/api/posts/${alive.id}/like`, { token: reader.token })).body.likes).toBe(1);
  });

  it('requires a signed-in user to like', async () => {
    const post = await createPost(author);
    const res = await api('POST', `/api/posts/${post.id}/like`);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('missing token');
    expect((await api('POST', '/api/posts/abc/like', { token: reader.token })).body.error).toBe(
      'invalid post id',
    );
  });
});
