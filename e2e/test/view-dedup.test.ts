import { api, newUser, type TestUser } from './client';

// The e2e platform runs metrics with the default VIEW_DEDUP_SECONDS (1800): a reader counts one view
// per post within the window. Anonymous readers are told apart by the client address the gateway
// sees (TRUST_PROXY off: the socket's), so every anonymous request of this suite is one reader.

async function createPost(user: TestUser): Promise<number> {
  const res = await api('POST', '/api/posts', {
    token: user.token,
    body: { title: 'Viewed post', description: 'A post whose views are inflated.' },
  });
  if (res.status !== 201) throw new Error(`create post: ${res.status} ${res.text}`);
  return res.body.id as number;
}

/** The count as the list shows it (the list counts no view). */
async function viewsOf(author: TestUser, id: number): Promise<number> {
  const list = await api('GET', `/api/posts?user_id=${author.id}&limit=100`);
  return list.body.find((p: { id: number }) => p.id === id)?.count_viewers as number;
}

const recorded = (r: { headers: Headers }) => r.headers.get('x-view-recorded');

describe('view inflation through the gateway', () => {
  let author: TestUser;
  let ann: TestUser;
  let ben: TestUser;

  beforeAll(async () => {
    [author, ann, ben] = await Promise.all([newUser(), newUser(), newUser()]);
  });

  it('counts 50 racing reads of one anonymous client once', async () => {
    const id = await createPost(author);
    const reads = await Promise.all(Array.from({ length: 50 }, () => api('GET', `/api/posts/${id}`)));
    expect(reads.every((r) => r.status === 200)).toBe(true);
    expect(reads.filter((r) => recorded(r) === 'true')).toHaveLength(1);
    expect(reads.filter((r) => recorded(r) === 'false')).toHaveLength(49);
    expect(reads.every((r) => r.body.count_viewers === 1)).toBe(true);
    expect(await viewsOf(author, id)).toBe(1);
  });

  it('ignores forwarding headers a client sends to pass as many readers', async () => {
    const id = await createPost(author);
    const forged: Array<Record<string, string>> = [
      { 'x-forwarded-for': '203.0.113.1' },
      { 'x-forwarded-for': '203.0.113.2, 198.51.100.2' },
      { 'x-real-ip': '203.0.113.3' },
      { forwarded: 'for=203.0.113.4' },
      { 'x-client-ip': '203.0.113.5' },
      { 'cf-connecting-ip': '203.0.113.6' },
      { 'true-client-ip': '203.0.113.7' },
    ];
    for (const headers of forged) await api('GET', `/api/posts/${id}`, { headers });
    expect(await viewsOf(author, id)).toBe(1);
  });

  it('counts 50 racing reads of one signed-in user once', async () => {
    const id = await createPost(author);
    const reads = await Promise.all(
      Array.from({ length: 50 }, () => api('GET', `/api/posts/${id}`, { token: ann.token })),
    );
    expect(reads.filter((r) => recorded(r) === 'true')).toHaveLength(1);
    expect(await viewsOf(author, id)).toBe(1);
  });

  it('counts two users twice, and an anonymous reader apart from them', async () => {
    const id = await createPost(author);
    for (let i = 0; i < 5; i += 1) {
      await api('GET', `/api/posts/${id}`, { token: ann.token });
      await api('GET', `/api/posts/${id}`, { token: ben.token });
    }
    expect(await viewsOf(author, id)).toBe(2);
    const anonymous = await api('GET', `/api/posts/${id}`);
    expect(recorded(anonymous)).toBe('true');
    expect(anonymous.body.count_viewers).toBe(3);
  });

  it('counts a reader once per post, not once in all', async () => {
    const [a, b] = [await createPost(author), await createPost(author)];
    expect(recorded(await api('GET', `/api/posts/${a}`, { token: ben.token }))).toBe('true');
    expect(recorded(await api('GET', `/api/posts/${b}`, { token: ben.token }))).toBe('true');
    expect(recorded(await api('GET', `/api/posts/${a}`, { token: ben.token }))).toBe('false');
  });
});
