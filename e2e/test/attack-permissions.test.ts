import { createHash } from 'node:crypto';
import { api, gatewayUrl, newUser, type ApiResponse, type TestUser } from './client';

/** What one row acts on: a post of the owner's with a comment, an attachment on each, the owner's like. */
interface Fixture {
  postId: number;
  commentId: number;
  postAttachmentId: number;
  commentAttachmentId: number;
}

interface Verb {
  /** Sends the request as `token` (undefined: anonymous). */
  send: (f: Fixture, token: string | undefined) => Promise<ApiResponse>;
  /** A write: when refused, the resource must read back exactly as before. */
  write: boolean;
}

const TEXT = Buffer.from('attached text, checked byte for byte\n');

async function upload(path: string, token: string | undefined): Promise<ApiResponse> {
  const form = new FormData();
  form.append('files', new Blob([TEXT], { type: 'text/plain' }), 'notes.txt');
  const res = await fetch(`${gatewayUrl()}${path}`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, text };
}

async function download(path: string, token: string | undefined): Promise<ApiResponse> {
  const res = await fetch(`${gatewayUrl()}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    headers: res.headers,
    body: undefined,
    text: createHash('sha256').update(bytes).digest('hex'),
  };
}

const attachmentVerbs = (kind: 'post' | 'comment'): Record<string, Verb> => {
  const parent = (f: Fixture) => (kind === 'post' ? f.postId : f.commentId);
  const id = (f: Fixture) => (kind === 'post' ? f.postAttachmentId : f.commentAttachmentId);
  return {
    list: {
      write: false,
      send: (f, token) => api('GET', `/api/${kind}s/${parent(f)}/attachments`, { token }),
    },
    read: { write: false, send: (f, token) => api('GET', `/api/${kind}s/attachments/${id(f)}`, { token }) },
    download: {
      write: false,
      send: (f, token) => download(`/api/${kind}s/attachments/${id(f)}/file`, token),
    },
    upload: { write: true, send: (f, token) => upload(`/api/${kind}s/${parent(f)}/attachments`, token) },
    delete: {
      write: true,
      send: (f, token) => api('DELETE', `/api/${kind}s/attachments/${id(f)}`, { token }),
    },
  };
};

/** Every resource of the public API and every verb the API document lists for it (plus PATCH, served by nobody). */
const RESOURCES: Record<string, Record<string, Verb>> = {
  post: {
    list: { write: false, send: (f, token) => api('GET', `/api/posts?limit=100`, { token }) },
    read: { write: false, send: (f, token) => api('GET', `/api/posts/${f.postId}`, { token }) },
    create: {
      write: true,
      send: (_f, token) =>
        api('POST', '/api/posts', {
          token,
          body: { title: 'Matrix post', description: 'Created by the matrix.' },
        }),
    },
    update: {
      write: true,
      send: (f, token) =>
        api('PUT', `/api/posts/${f.postId}`, { token, body: { title: 'Changed by the matrix' } }),
    },
    patch: {
      write: true,
      send: (f, token) => api('PATCH', `/api/posts/${f.postId}`, { token, body: { title: 'Patched' } }),
    },
    delete: { write: true, send: (f, token) => api('DELETE', `/api/posts/${f.postId}`, { token }) },
  },
  comment: {
    list: { write: false, send: (f, token) => api('GET', `/api/posts/${f.postId}/comments`, { token }) },
    'list by query': {
      write: false,
      send: (f, token) => api('GET', `/api/comments?post_id=${f.postId}`, { token }),
    },
    read: { write: false, send: (f, token) => api('GET', `/api/comments/${f.commentId}`, { token }) },
    create: {
      write: true,
      send: (f, token) =>
        api('POST', `/api/posts/${f.postId}/comments`, { token, body: { text: 'matrix says hi' } }),
    },
    'create by body': {
      write: true,
      send: (f, token) =>
        api('POST', '/api/comments', { token, body: { post_id: f.postId, text: 'matrix' } }),
    },
    update: {
      write: true,
      send: (f, token) =>
        api('PUT', `/api/comments/${f.commentId}`, { token, body: { text: 'changed by the matrix' } }),
    },
    patch: {
      write: true,
      send: (f, token) => api('PATCH', `/api/comments/${f.commentId}`, { token, body: { text: 'patched' } }),
    },
    delete: { write: true, send: (f, token) => api('DELETE', `/api/comments/${f.commentId}`, { token }) },
  },
  'post attachment': attachmentVerbs('post'),
  'comment attachment': attachmentVerbs('comment'),
  like: {
    read: { write: false, send: (f, token) => api('GET', `/api/posts/${f.postId}/like`, { token }) },
    create: { write: true, send: (f, token) => api('POST', `/api/posts/${f.postId}/like`, { token }) },
    delete: { write: true, send: (f, token) => api('DELETE', `/api/posts/${f.postId}/like`, { token }) },
    'delete (unlike)': {
      write: true,
      send: (f, token) => api('DELETE', `/api/posts/${f.postId}/unlike`, { token }),
    },
  },
  profile: {
    read: { write: false, send: (_f, token) => api('GET', `/api/users/${owner.id}`, { token }) },
    'read own': { write: false, send: (_f, token) => api('GET', '/api/auth/me', { token }) },
    update: {
      write: true,
      send: (_f, token) => api('PUT', `/api/users/${owner.id}`, { token, body: { name: 'Changed Name' } }),
    },
    patch: {
      write: true,
      send: (_f, token) => api('PATCH', `/api/users/${owner.id}`, { token, body: { name: 'Changed Name' } }),
    },
    delete: { write: true, send: (_f, token) => api('DELETE', `/api/users/${owner.id}`, { token }) },
  },
};

// [resource, verb, owner, other user, anonymous]. For a like the owner is the user who liked.
const MATRIX: Array<[string, string, number, number, number]> = [
  ['post', 'list', 200, 200, 200],
  ['post', 'read', 200, 200, 200],
  ['post', 'create', 201, 201, 401],
  ['post', 'update', 200, 403, 401],
  ['post', 'patch', 404, 404, 404],
  ['post', 'delete', 204, 403, 401],
  ['comment', 'list', 200, 200, 200],
  ['comment', 'list by query', 200, 200, 200],
  ['comment', 'read', 200, 200, 200],
  ['comment', 'create', 201, 201, 401],
  ['comment', 'create by body', 201, 201, 401],
  ['comment', 'update', 200, 403, 401],
  ['comment', 'patch', 404, 404, 404],
  ['comment', 'delete', 204, 403, 401],
  ['post attachment', 'list', 200, 200, 200],
  ['post attachment', 'read', 200, 200, 200],
  ['post attachment', 'download', 200, 200, 200],
  ['post attachment', 'upload', 201, 403, 401],
  ['post attachment', 'delete', 204, 403, 401],
  ['comment attachment', 'list', 200, 200, 200],
  ['comment attachment', 'read', 200, 200, 200],
  ['comment attachment', 'download', 200, 200, 200],
  ['comment attachment', 'upload', 201, 403, 401],
  ['comment attachment', 'delete', 204, 403, 401],
  // The other user reads and sets only their own like: liking is theirs to do, removing the owner's is not.
  ['like', 'read', 200, 200, 401],
  ['like', 'create', 400, 200, 401],
  ['like', 'delete', 200, 400, 401],
  ['like', 'delete (unlike)', 200, 400, 401],
  // Profiles are public without the email; no route changes or deletes one.
  ['profile', 'read', 200, 200, 200],
  ['profile', 'read own', 200, 200, 401],
  ['profile', 'update', 404, 404, 404],
  ['profile', 'patch', 404, 404, 404],
  ['profile', 'delete', 404, 404, 404],
];

let owner: TestUser;
let other: TestUser;
let readFixture: Promise<Fixture> | undefined;

/** The resource as its owner sees it, for "unchanged" comparisons (views are counted by reads, so left out). */
async function snapshot(resource: string, f: Fixture): Promise<unknown> {
  switch (resource) {
    case 'post': {
      const { count_viewers: _views, ...post } = (await api('GET', `/api/posts/${f.postId}`)).body;
      return {
        post,
        total: (await api('GET', `/api/posts?user_id=${owner.id}`)).headers.get('x-total-count'),
      };
    }
    case 'comment':
      return {
        comment: (await api('GET', `/api/comments/${f.commentId}`)).body,
        all: (await api('GET', `/api/posts/${f.postId}/comments`)).body,
      };
    case 'post attachment':
    case 'comment attachment': {
      const kind = resource === 'post attachment' ? 'post' : 'comment';
      const id = kind === 'post' ? f.postAttachmentId : f.commentAttachmentId;
      return {
        list: (await api('GET', `/api/${kind}s/${kind === 'post' ? f.postId : f.commentId}/attachments`))
          .body,
        file: (await download(`/api/${kind}s/attachments/${id}/file`, undefined)).text,
      };
    }
    case 'like':
      return (await api('GET', `/api/posts/${f.postId}/like`, { token: owner.token })).body;
    default:
      return (await api('GET', '/api/auth/me', { token: owner.token })).body;
  }
}

async function fixture(): Promise<Fixture> {
  const post = await api('POST', '/api/posts', {
    token: owner.token,
    body: { title: 'Matrix target', description: 'The owner owns everything here.' },
  });
  const postId = post.body.id as number;
  const [comment, postAttachment] = await Promise.all([
    api('POST', `/api/posts/${postId}/comments`, { token: owner.token, body: { text: 'owner comment' } }),
    upload(`/api/posts/${postId}/attachments`, owner.token),
    api('POST', `/api/posts/${postId}/like`, { token: owner.token }),
  ]);
  const commentId = comment.body.id as number;
  const commentAttachment = await upload(`/api/comments/${commentId}/attachments`, owner.token);
  if (postAttachment.status !== 201 || commentAttachment.status !== 201) {
    throw new Error(`fixture uploads: ${postAttachment.status} ${commentAttachment.status}`);
  }
  return {
    postId,
    commentId,
    postAttachmentId: postAttachment.body[0].id,
    commentAttachmentId: commentAttachment.body[0].id,
  };
}

describe('permission matrix: every resource × verb × owner, other user, anonymous', () => {
  beforeAll(async () => {
    [owner, other] = await Promise.all([newUser(), newUser()]);
  });

  it('covers every verb of every resource', () => {
    const listed = MATRIX.map(([r, v]) => `${r} ${v}`).sort();
    const defined = Object.entries(RESOURCES)
      .flatMap(([r, verbs]) => Object.keys(verbs).map((v) => `${r} ${v}`))
      .sort();
    expect(listed).toEqual(defined);
  });

  const rows = MATRIX.flatMap(([resource, verb, ...statuses]) =>
    (['owner', 'other', 'anonymous'] as const).map((actor, i) => ({
      resource,
      verb,
      actor,
      status: statuses[i]!,
    })),
  );

  it.each(rows)('$resource $verb by $actor → $status', async ({ resource, verb, actor, status }) => {
    const v = RESOURCES[resource]![verb]!;
    // Reads share one fixture; every write gets its own, so rows never see each other's changes.
    const f = v.write ? await fixture() : await (readFixture ??= fixture());
    const token = actor === 'owner' ? owner.token : actor === 'other' ? other.token : undefined;
    const before = v.write ? await snapshot(resource, f) : undefined;
    const res = await v.send(f, token);
    expect(res.status).toBe(status);
    if (status >= 400) {
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(JSON.parse(res.text).error).toEqual(expect.any(String));
    }
    if (v.write && status >= 400) expect(await snapshot(resource, f)).toEqual(before);
    if (resource === 'profile' && res.status === 200) {
      // Another user's profile never carries the email; one's own does.
      const own = verb === 'read own';
      const shown = own ? (actor === 'owner' ? owner : other) : owner;
      expect(res.body.id).toBe(shown.id);
      expect(res.text.includes(shown.email)).toBe(own);
    }
    if (resource === 'like' && verb === 'read' && res.status === 200) {
      expect(res.body.liked).toBe(actor === 'owner');
    }
  });
});

describe('server-owned fields in write bodies are never taken', () => {
  beforeAll(async () => {
    owner ??= await newUser();
    other ??= await newUser();
  });

  it('an update cannot move a post or comment to another author or post, or set its counts', async () => {
    const f = await fixture();
    const likes = (await api('GET', `/api/posts/${f.postId}/like`, { token: owner.token })).body.likes;
    const elsewhere = await api('POST', '/api/posts', {
      token: other.token,
      body: { title: 'Elsewhere', description: 'Another post of another user.' },
    });
    const post = await api('PUT', `/api/posts/${f.postId}`, {
      token: owner.token,
      body: {
        title: 'Still mine',
        id: elsewhere.body.id,
        user_id: other.id,
        like: 999,
        count_viewers: 999,
        deleted_at: '2000-01-01',
      },
    });
    expect(post.status).toBe(200);
    expect(post.body).toMatchObject({ id: f.postId, user_id: owner.id, title: 'Still mine', like: likes });
    expect(post.body.count_viewers).toBeLessThan(999);

    const comment = await api('PUT', `/api/comments/${f.commentId}`, {
      token: owner.token,
      body: {
        text: 'still here',
        post_id: elsewhere.body.id,
        user_id: other.id,
        like: 5,
        blocked: true,
        id: 1,
      },
    });
    expect(comment.status).toBe(200);
    expect(comment.body).toMatchObject({
      id: f.commentId,
      post_id: f.postId,
      user_id: owner.id,
      like: 0,
      blocked: false,
    });

    const created = await api('POST', `/api/posts/${f.postId}/comments`, {
      token: other.token,
      body: { text: 'mine', post_id: elsewhere.body.id, user_id: owner.id, blocked: true, like: 3 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ post_id: f.postId, user_id: other.id, blocked: false, like: 0 });
  });

  it('a prototype-polluting body changes nothing and the services keep answering', async () => {
    const polluted =
      '{"title":"Polluted post","description":"A body with __proto__.","__proto__":{"user_id":1,"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}}}';
    const res = await api('POST', '/api/posts', { token: other.token, raw: polluted });
    expect(res.status).toBe(201);
    expect(res.body.user_id).toBe(other.id);
    expect(res.body.isAdmin).toBeUndefined();
    const next = await api('POST', '/api/posts', {
      token: owner.token,
      body: { title: 'After pollution', description: 'Plain objects are still plain.' },
    });
    expect(next.body.user_id).toBe(owner.id);
    expect(next.body.isAdmin).toBeUndefined();
  });
});
