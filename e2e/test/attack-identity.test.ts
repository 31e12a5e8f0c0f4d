import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { laterPort } from '@mpb/test-kit';
import {
  api,
  apiAt,
  gatewayUrl,
  newUser,
  servicePorts,
  serviceUrl,
  uniq,
  type ApiResponse,
  type ServiceName,
  type TestUser,
} from './client';

/**
 * Headers some gateways and auth proxies use to tell a service who the caller is. Our services
 * take identity only from the verified token, so each of these, sent by a client, must change
 * nothing, and the gateway drops the ones named in IDENTITY_HEADER_PATTERN before proxying.
 */
const forgedIdentity = (userId: number, username: string): Record<string, string> => ({
  'x-user-id': String(userId),
  'x-user': JSON.stringify({ id: userId, username }),
  'x-auth-user': String(userId),
  'x-auth-user-id': String(userId),
  'x-identity': JSON.stringify({ sub: String(userId) }),
  'x-authenticated-userid': String(userId),
  'x-authenticated-user': username,
  'x-internal-user-id': String(userId),
  'x-forwarded-user': username,
  'x-remote-user': username,
  'remote-user': username,
  'x-auth-request-user': username,
});

/** Ports for the servers a test starts: below the ephemeral range (see @mpb/test-kit laterPort). */
const freePort = laterPort;

async function createPost(user: TestUser, title = 'Owned post'): Promise<number> {
  const res = await api('POST', '/api/posts', {
    token: user.token,
    body: { title, description: 'Only its author may change it.' },
  });
  if (res.status !== 201) throw new Error(`create post: ${res.status} ${res.text}`);
  return res.body.id as number;
}

describe('identity a client claims in headers is never believed', () => {
  let owner: TestUser;
  let other: TestUser;
  let postId: number;
  let commentId: number;
  let attachmentId: number;
  let likesBefore: number;
  const bases = (service: ServiceName) => [
    { via: 'gateway', base: gatewayUrl() },
    { via: 'own port', base: serviceUrl(service) },
  ];

  beforeAll(async () => {
    [owner, other] = await Promise.all([newUser(), newUser()]);
    postId = await createPost(owner, 'Identity target');
    const comment = await api('POST', `/api/posts/${postId}/comments`, {
      token: owner.token,
      body: { text: 'owned comment' },
    });
    commentId = comment.body.id;
    const form = new FormData();
    form.append('files', new Blob([Buffer.from('owned file\n')]), 'owned.txt');
    const uploaded = await fetch(`${gatewayUrl()}/api/posts/${postId}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}` },
      body: form,
    });
    expect(uploaded.status).toBe(201);
    attachmentId = ((await uploaded.json()) as Array<{ id: number }>)[0]!.id;
    const like = await api('POST', `/api/posts/${postId}/like`, { token: owner.token });
    expect(like.status).toBe(200);
    likesBefore = like.body.likes;
  });

  const protectedRoutes: Array<{ service: ServiceName; method: string; path: () => string; body?: unknown }> =
    [
      { service: 'auth', method: 'GET', path: () => '/api/auth/me' },
      { service: 'auth', method: 'POST', path: () => '/api/auth/logout' },
      {
        service: 'posts',
        method: 'POST',
        path: () => '/api/posts',
        body: { title: 'Claimed', description: 'A post by a claimed user.' },
      },
      { service: 'posts', method: 'PUT', path: () => `/api/posts/${postId}`, body: { title: 'Claimed' } },
      { service: 'posts', method: 'DELETE', path: () => `/api/posts/${postId}` },
      {
        service: 'comments',
        method: 'POST',
        path: () => `/api/posts/${postId}/comments`,
        body: { text: 'x' },
      },
      { service: 'comments', method: 'PUT', path: () => `/api/comments/${commentId}`, body: { text: 'x' } },
      { service: 'comments', method: 'DELETE', path: () => `/api/comments/${commentId}` },
      { service: 'metrics', method: 'POST', path: () => `/api/posts/${postId}/like` },
      { service: 'metrics', method: 'GET', path: () => `/api/posts/${postId}/like` },
      { service: 'metrics', method: 'DELETE', path: () => `/api/posts/${postId}/unlike` },
      { service: 'attachments', method: 'POST', path: () => `/api/posts/${postId}/attachments` },
      { service: 'attachments', method: 'DELETE', path: () => `/api/posts/attachments/${attachmentId}` },
    ];

  it.each(protectedRoutes)(
    '$service $method: identity headers without a token are a 401, at the gateway and on its own port',
    async ({ service, method, path: pathOf, body }) => {
      for (const { via, base } of bases(service)) {
        const res = await apiAt(base, method, pathOf(), {
          body,
          headers: forgedIdentity(owner.id, owner.username),
        });
        expect({ via, status: res.status, error: res.body?.error }).toEqual({
          via,
          status: 401,
          error: 'missing token',
        });
      }
    },
  );

  it("another user's token with headers naming the owner stays that other user, everywhere", async () => {
    const claims = forgedIdentity(owner.id, owner.username);
    for (const service of ['auth', 'posts', 'comments', 'metrics', 'attachments'] as const) {
      for (const { via, base } of bases(service)) {
        const as = (method: string, p: string, body?: unknown): Promise<ApiResponse> =>
          apiAt(base, method, p, { token: other.token, headers: claims, body });
        const where = `${service} via ${via}`;
        if (service === 'auth') {
          const me = await as('GET', '/api/auth/me');
          expect({ where, status: me.status, id: me.body.id }).toEqual({ where, status: 200, id: other.id });
        } else if (service === 'posts') {
          expect({
            where,
            status: (await as('PUT', `/api/posts/${postId}`, { title: 'Claimed' })).status,
          }).toEqual({ where, status: 403 });
          expect({ where, status: (await as('DELETE', `/api/posts/${postId}`)).status }).toEqual({
            where,
            status: 403,
          });
        } else if (service === 'comments') {
          expect({
            where,
            status: (await as('PUT', `/api/comments/${commentId}`, { text: 'x' })).status,
          }).toEqual({
            where,
            status: 403,
          });
          expect({ where, status: (await as('DELETE', `/api/comments/${commentId}`)).status }).toEqual({
            where,
            status: 403,
          });
        } else if (service === 'metrics') {
          // The owner likes the post; the other user, claiming to be the owner, does not.
          const state = await as('GET', `/api/posts/${postId}/like`);
          expect({ where, liked: state.body.liked }).toEqual({ where, liked: false });
          const unlike = await as('DELETE', `/api/posts/${postId}/unlike`);
          expect({ where, status: unlike.status }).toEqual({ where, status: 400 });
        } else {
          const del = await as('DELETE', `/api/posts/attachments/${attachmentId}`);
          expect({ where, status: del.status }).toEqual({ where, status: 403 });
        }
      }
    }
    // Nothing the claims aimed at changed.
    const post = await api('GET', `/api/posts/${postId}`);
    expect(post.body).toMatchObject({ title: 'Identity target', user_id: owner.id, like: likesBefore });
    expect((await api('GET', `/api/comments/${commentId}`)).body.text).toBe('owned comment');
    expect((await api('GET', `/api/posts/attachments/${attachmentId}`)).status).toBe(200);
  });

  it('a public read answers the same with or without forged identity headers', async () => {
    const plain = await api('GET', `/api/users/${owner.id}`);
    const claimed = await api('GET', `/api/users/${owner.id}`, {
      headers: forgedIdentity(owner.id, owner.username),
    });
    expect(claimed.status).toBe(200);
    expect(claimed.body).toEqual(plain.body);
    expect(claimed.body.email).toBeUndefined();
  });
});

describe('a second gateway, with a low auth rate limit and a stand-in upstream that shows what it receives', () => {
  let gateway: ChildProcess | undefined;
  let base: string;
  let echo: Server;
  const received: IncomingHttpHeaders[] = [];
  const logs: string[] = [];
  const RATE_LIMIT = 5;

  beforeAll(async () => {
    // Stands in for posts: answers every request with 200 and keeps its headers.
    echo = createServer((req, res) => {
      received.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end('[]');
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const main = path.resolve(__dirname, '../../services/gateway/dist/src/main.js');
    gateway = spawn(process.execPath, [main], {
      cwd: path.dirname(main),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        REDIS_URL: process.env.E2E_REDIS_URL ?? 'redis://127.0.0.1:6379/2',
        AUTH_URL: serviceUrl('auth'),
        AUTH_GRPC_ADDR: `127.0.0.1:${servicePorts().auth?.grpc}`,
        POSTS_URL: echoUrl,
        COMMENTS_URL: serviceUrl('comments'),
        METRICS_URL: serviceUrl('metrics'),
        ATTACHMENTS_URL: serviceUrl('attachments'),
        RATE_LIMIT_AUTH_MAX: String(RATE_LIMIT),
        RATE_LIMIT_AUTH_WINDOW_SECONDS: '60',
        RATE_LIMIT_KEY_PREFIX: `${uniq('e2e-xff-')}:`,
      },
    });
    for (const stream of [gateway.stdout!, gateway.stderr!])
      stream.on('data', (c: Buffer) => logs.push(String(c)));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (gateway.exitCode !== null) throw new Error(`second gateway exited: ${logs.join('')}`);
      try {
        if ((await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1000) })).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`second gateway not ready: ${logs.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((resolve) => gateway!.once('exit', resolve));
      gateway.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (gateway.exitCode === null) gateway.kill('SIGKILL');
    }
    await new Promise((resolve) => echo?.close(resolve));
  });

  it('strips identity and forwarding headers a client sends before the request reaches a service', async () => {
    const res = await apiAt(base, 'GET', '/api/posts', {
      headers: {
        ...forgedIdentity(1, 'admin'),
        'x-forwarded-for': '6.6.6.6',
        'x-real-ip': '6.6.6.6',
        forwarded: 'for=6.6.6.6',
        'x-forwarded-host': 'evil.example',
      },
    });
    expect(res.status).toBe(200);
    const headers = received.at(-1)!;
    for (const name of Object.keys(forgedIdentity(1, 'admin'))) {
      expect({ name, value: headers[name] }).toEqual({ name, value: undefined });
    }
    expect(JSON.stringify(headers)).not.toMatch(/6\.6\.6\.6|evil\.example/);
  });

  it('X-Forwarded-For and its relatives do not reset the login rate limit', async () => {
    const login = (i: number, p = '/api/auth/login') =>
      apiAt(base, 'POST', p, {
        body: { username: uniq('nobody_'), password: 'wrong-password' },
        headers: {
          'x-forwarded-for': `10.0.${i}.${i}`,
          'x-real-ip': `10.1.${i}.${i}`,
          forwarded: `for=10.2.${i}.${i}`,
          'true-client-ip': `10.3.${i}.${i}`,
          'cf-connecting-ip': `10.4.${i}.${i}`,
        },
      });
    for (let i = 1; i <= RATE_LIMIT; i += 1) expect((await login(i)).status).toBe(401);
    const limited = await login(RATE_LIMIT + 1);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body.code).toBe('RATE_LIMITED');
    // The same bucket whatever the path's spelling: the auth service routes these to login too.
    for (const p of ['/API/AUTH/LOGIN', '/api/auth/login/', '/api/Auth/Login?x=1']) {
      const res = await login(99, p);
      expect({ path: p, status: res.status }).toEqual({ path: p, status: 429 });
    }
    // A spelling that would need normalising is refused before any route or service sees it.
    expect((await login(99, '/api//auth/login')).status).toBe(400);
  });
});
