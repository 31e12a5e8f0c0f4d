import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import {
  api,
  apiAt,
  gatewayUrl,
  newUser,
  rawRequest,
  serviceUrl,
  uniq,
  type ApiResponse,
  type ServiceName,
  type TestUser,
} from './client';

const MB = 1024 * 1024;
/** Each service's JSON body limit (its http/app.ts); the gateway's is 4 MiB. */
const BODY_LIMITS: Record<ServiceName, number> = {
  auth: 8 * 1024,
  posts: 128 * 1024,
  comments: 8 * 1024,
  metrics: 16 * 1024,
  attachments: 1024,
};

/**
 * The gateway's body limit of a JSON route (its routing table): posts 256 KiB, every other JSON
 * row 64 KiB. A body over it is a 413 at the gateway whatever the service would take.
 */
const gatewayLimitOf = (p: string): number => (/^\/api\/posts(\/\d+)?$/.test(p) ? 256 * 1024 : 64 * 1024);
const limitOf = (service: ServiceName, p: string): number =>
  Math.min(BODY_LIMITS[service], gatewayLimitOf(p));

/** Runs `fn` over `items`, `width` at a time (the services share two cores with everything else). */
async function inBatches<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width)
    out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

/**
 * Sends headers that announce a body of `declared` bytes (chunked when undefined), then `send`
 * bytes of it at most, and resolves with the status as soon as the answer comes, with how much of
 * the body went out by then. With `end: false` the body never ends: an answer proves the server
 * decided without waiting for (or buffering) the whole body.
 */
function announceBody(
  base: string,
  method: string,
  p: string,
  o: { declared?: number; send: number; end?: boolean; contentType?: string; token?: string },
): Promise<{ status: number; sentBytes: number; ms: number }> {
  const url = new URL(base);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let sentBytes = 0;
    let answered = false;
    const headers: Record<string, string> = { 'content-type': o.contentType ?? 'application/json' };
    if (o.declared !== undefined) headers['content-length'] = String(o.declared);
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const req = request({ host: url.hostname, port: url.port, method, path: p, headers }, (res) => {
      answered = true;
      res.resume();
      resolve({ status: res.statusCode ?? 0, sentBytes, ms: Date.now() - started });
      req.destroy();
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (!answered && sentBytes < o.send) {
        sentBytes += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered && o.declared === undefined && o.end !== false) req.end();
    };
    req.flushHeaders();
    pump();
    setTimeout(() => {
      if (!answered) {
        req.destroy();
        reject(
          new Error(`no answer to ${method} ${p} after ${Date.now() - started} ms (${sentBytes} bytes sent)`),
        );
      }
    }, 10_000).unref();
  });
}

async function createPost(user: TestUser, patch: Record<string, unknown> = {}): Promise<number> {
  const res = await api('POST', '/api/posts', {
    token: user.token,
    body: { title: `Post ${uniq()}`, description: 'A post for limit probes.', ...patch },
  });
  if (res.status !== 201) throw new Error(`create post: ${res.status} ${res.text}`);
  return res.body.id as number;
}

describe('limits hold against oversized and hostile input', () => {
  let owner: TestUser;
  let postId: number;
  let commentId: number;
  const tag = uniq('lim');

  beforeAll(async () => {
    owner = await newUser();
    postId = await createPost(owner, { tag });
    // Enough rows that a page past the cap would show: 101 posts under one tag, 101 comments on one post.
    await inBatches(Array.from({ length: 100 }), 10, () => createPost(owner, { tag }));
    const comments = await inBatches(
      Array.from({ length: 101 }, (_, i) => i),
      10,
      async (i) => {
        const res = await api('POST', `/api/posts/${postId}/comments`, {
          token: owner.token,
          body: { text: `comment ${i}` },
        });
        if (res.status !== 201) throw new Error(`create comment: ${res.status} ${res.text}`);
        return res.body.id as number;
      },
    );
    commentId = comments[0]!;
  });

  const lists = () => [
    { name: 'GET /api/posts', path: `/api/posts?tag=${tag}` },
    { name: 'GET /api/comments', path: `/api/comments?post_id=${postId}` },
    { name: 'GET /api/posts/:id/comments', path: `/api/posts/${postId}/comments?x=1` },
  ];

  describe('page size', () => {
    it.each(['1000', '101', '99999999999999999999'])(
      'limit=%s is clamped to 100 on every list',
      async (limit) => {
        for (const list of lists()) {
          const res = await api('GET', `${list.path}&limit=${limit}`);
          expect({ list: list.name, status: res.status, items: res.body?.length }).toEqual({
            list: list.name,
            status: 200,
            items: 100,
          });
          expect(res.headers.get('x-total-count')).toBe('101');
          expect(res.headers.get('link')).toContain('limit=100');
        }
      },
    );

    it.each([
      ['page=-1', 'page'],
      ['page=0', 'page'],
      ['page=abc', 'page'],
      ['page=1.5', 'page'],
      ['page=1e3', 'page'],
      ['page=', 'page'],
      ['page=1&page=2', 'page'],
      ['limit=-1', 'limit'],
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=0x10', 'limit'],
      ['limit=10%20OR%201=1', 'limit'],
    ])('%s is a 400 naming the parameter on every list', async (query, param) => {
      for (const list of lists()) {
        const res = await api('GET', `${list.path}&${query}`);
        expect({ list: list.name, status: res.status }).toEqual({ list: list.name, status: 400 });
        expect(res.body.error).toContain(param);
      }
    });

    it.each(['offset=-5', 'offset=abc', "offset=1'--"])(
      '%s (no list takes an offset) changes nothing',
      async (query) => {
        for (const list of lists()) {
          const plain = await api('GET', `${list.path}&limit=5`);
          const res = await api('GET', `${list.path}&limit=5&${query}`);
          expect({ list: list.name, status: res.status }).toEqual({ list: list.name, status: 200 });
          expect(res.body.map((x: { id: number }) => x.id)).toEqual(
            plain.body.map((x: { id: number }) => x.id),
          );
        }
      },
    );
  });

  describe('body size', () => {
    const jsonRoutes = (): Array<{ service: ServiceName; method: string; path: string }> => [
      { service: 'auth', method: 'POST', path: '/api/auth/register' },
      { service: 'auth', method: 'POST', path: '/api/auth/login' },
      { service: 'posts', method: 'POST', path: '/api/posts' },
      { service: 'posts', method: 'PUT', path: `/api/posts/${postId}` },
      { service: 'comments', method: 'POST', path: '/api/comments' },
      { service: 'comments', method: 'PUT', path: `/api/comments/${commentId}` },
      { service: 'metrics', method: 'POST', path: `/api/posts/${postId}/like` },
    ];

    it('a declared 10 MB JSON body is a 413 from the gateway before any of it is sent', async () => {
      for (const r of jsonRoutes()) {
        const res = await announceBody(gatewayUrl(), r.method, r.path, {
          declared: 10 * MB,
          send: 0,
          token: owner.token,
        });
        expect({ route: `${r.method} ${r.path}`, status: res.status }).toEqual({
          route: `${r.method} ${r.path}`,
          status: 413,
        });
        expect(res.ms).toBeLessThan(2000);
      }
    });

    it('a 10 MB JSON body sent to each service on its own port is a 413 within seconds', async () => {
      const raw = JSON.stringify({ text: 'x'.repeat(10 * MB) });
      for (const r of jsonRoutes()) {
        const started = Date.now();
        const res = await apiAt(serviceUrl(r.service), r.method, r.path, { raw, token: owner.token });
        expect({ route: `${r.method} ${r.path}`, status: res.status }).toEqual({
          route: `${r.method} ${r.path}`,
          status: 413,
        });
        expect(Date.now() - started).toBeLessThan(5000);
      }
    });

    it("a chunked JSON body is refused with 413 once past the row's limit, while the client is still sending", async () => {
      for (const r of jsonRoutes()) {
        const res = await announceBody(gatewayUrl(), r.method, r.path, {
          send: 5 * MB,
          end: false,
          token: owner.token,
        });
        expect({ route: `${r.method} ${r.path}`, status: res.status }).toEqual({
          route: `${r.method} ${r.path}`,
          status: 413,
        });
      }
    });

    it.each(['gzip', 'deflate', 'br'])(
      'a %s bomb (a small body inflating to 64 MB) is a 413 or 415 everywhere, and the services stay up',
      async (encoding) => {
        const inflated = Buffer.alloc(64 * MB, 0x20);
        const bomb =
          encoding === 'gzip'
            ? gzipSync(inflated)
            : encoding === 'deflate'
              ? deflateSync(inflated)
              : brotliCompressSync(inflated);
        expect(bomb.length).toBeLessThan(MB);
        for (const r of jsonRoutes()) {
          const started = Date.now();
          const res = await api(r.method, r.path, {
            raw: bomb,
            token: owner.token,
            headers: { 'content-type': 'application/json', 'content-encoding': encoding },
          });
          const where = `${r.method} ${r.path}`;
          expect({ where, refused: [413, 415].includes(res.status) }).toEqual({ where, refused: true });
          expect(Date.now() - started).toBeLessThan(5000);
        }
        for (const service of ['auth', 'posts', 'comments', 'metrics'] as const) {
          expect((await apiAt(serviceUrl(service), 'GET', '/livez')).status).toBe(200);
        }
      },
    );

    it('a whole 10 MB JSON body sent with its length is a 413 within a few seconds', async () => {
      const started = Date.now();
      const res = await api('POST', '/api/posts', {
        token: owner.token,
        raw: JSON.stringify({ title: 'Big', description: 'd'.repeat(10 * MB) }),
      });
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });

  describe('deeply nested JSON', () => {
    const DEPTH = 100_000;
    const nestedObject = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
    const nestedArray = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;
    const bodies: Array<[string, string]> = [
      ['objects as the body', nestedObject],
      ['arrays as the body', nestedArray],
      [
        'objects in an unknown field',
        `{"title":"Nested","description":"A valid description.","x":${nestedObject}}`,
      ],
      [
        'arrays in a known field',
        `{"title":${nestedArray},"description":"A valid description.","text":${nestedArray}}`,
      ],
    ];
    const routes = (): Array<{ service: ServiceName; method: string; path: string; authed: boolean }> => [
      { service: 'auth', method: 'POST', path: '/api/auth/register', authed: false },
      { service: 'auth', method: 'POST', path: '/api/auth/login', authed: false },
      { service: 'auth', method: 'POST', path: '/api/auth/refresh', authed: false },
      { service: 'posts', method: 'POST', path: '/api/posts', authed: true },
      { service: 'posts', method: 'PUT', path: `/api/posts/${postId}`, authed: true },
      { service: 'comments', method: 'POST', path: `/api/posts/${postId}/comments`, authed: true },
      { service: 'comments', method: 'PUT', path: `/api/comments/${commentId}`, authed: true },
      { service: 'metrics', method: 'POST', path: `/api/posts/${postId}/like`, authed: true },
    ];

    it.each(bodies)(
      '%s (100 000 levels) is refused everywhere (413 over the size limit, else 400), and every service answers afterwards',
      async (_n, body) => {
        for (const r of routes()) {
          const res = await api(r.method, r.path, { raw: body, token: r.authed ? owner.token : undefined });
          // Parsed and refused, unless the body is over the gateway's or the service's size limit.
          const status = Buffer.byteLength(body) > limitOf(r.service, r.path) ? 413 : 400;
          expect({ route: `${r.method} ${r.path}`, status: res.status }).toEqual({
            route: `${r.method} ${r.path}`,
            status,
          });
          expect(res.body.error).toEqual(expect.any(String));
        }
        for (const service of ['auth', 'posts', 'comments', 'metrics', 'attachments'] as const) {
          expect({ service, status: (await apiAt(serviceUrl(service), 'GET', '/livez')).status }).toEqual({
            service,
            status: 200,
          });
        }
        expect((await api('GET', `/api/posts/${postId}`)).body.title).toEqual(expect.any(String));
      },
    );

    it('a body under every size limit but 1 000 levels deep is a 400 naming the nesting, before parsing', async () => {
      const deep = `{"title":${'['.repeat(1000)}${']'.repeat(1000)},"text":"t","username":"u"}`;
      for (const r of routes()) {
        const res = await api(r.method, r.path, { raw: deep, token: r.authed ? owner.token : undefined });
        expect({ route: `${r.method} ${r.path}`, status: res.status, error: res.body.error }).toEqual({
          route: `${r.method} ${r.path}`,
          status: 400,
          error: 'request body nests too deeply (at most 16 levels)',
        });
      }
    });

    it('a 350 000-key object is refused by its size everywhere, long before it could be parsed', async () => {
      const wide = `{${Array.from({ length: 350_000 }, (_, i) => `"k${i}":0`).join(',')}}`;
      for (const r of routes()) {
        const started = Date.now();
        const res = await api(r.method, r.path, { raw: wide, token: r.authed ? owner.token : undefined });
        expect({ route: `${r.method} ${r.path}`, status: res.status }).toEqual({
          route: `${r.method} ${r.path}`,
          status: 413,
        });
        expect(Date.now() - started).toBeLessThan(5000);
      }
    });
  });

  describe('very long strings', () => {
    const huge = 'x'.repeat(MB);
    const registration = () => {
      const username = uniq('long_');
      return { name: 'Long Strings', username, email: `${username}@example.test`, password: 'secret-pass' };
    };
    const fields: Array<[string, string, () => string, (v: string) => unknown, boolean, number]> = [
      ['register', 'name', () => '/api/auth/register', (v) => ({ ...registration(), name: v }), false, 400],
      [
        'register',
        'username',
        () => '/api/auth/register',
        (v) => ({ ...registration(), username: v }),
        false,
        400,
      ],
      [
        'register',
        'email',
        () => '/api/auth/register',
        (v) => ({ ...registration(), email: `${v}@x.test` }),
        false,
        400,
      ],
      ['register', 'age', () => '/api/auth/register', (v) => ({ ...registration(), age: v }), false, 400],
      [
        'login',
        'username',
        () => '/api/auth/login',
        (v) => ({ username: v, password: 'secret-pass' }),
        false,
        400,
      ],
      ['refresh', 'refresh_token', () => '/api/auth/refresh', (v) => ({ refresh_token: v }), false, 401],
      [
        'create post',
        'title',
        () => '/api/posts',
        (v) => ({ title: v, description: 'A description.' }),
        true,
        400,
      ],
      [
        'create post',
        'description',
        () => '/api/posts',
        (v) => ({ title: 'Title', description: v }),
        true,
        400,
      ],
      [
        'create post',
        'tag',
        () => '/api/posts',
        (v) => ({ title: 'Title', description: 'A description.', tag: v }),
        true,
        400,
      ],
      ['update post', 'title', () => `/api/posts/${postId}`, (v) => ({ title: v }), true, 400],
      ['update post', 'description', () => `/api/posts/${postId}`, (v) => ({ description: v }), true, 400],
      ['update post', 'tag', () => `/api/posts/${postId}`, (v) => ({ tag: v }), true, 400],
      ['create comment', 'text', () => '/api/comments', (v) => ({ post_id: postId, text: v }), true, 400],
      ['comment a post', 'text', () => `/api/posts/${postId}/comments`, (v) => ({ text: v }), true, 400],
      ['update comment', 'text', () => `/api/comments/${commentId}`, (v) => ({ text: v }), true, 400],
    ];

    it.each(fields)(
      '%s: a 1 MB %s is refused at the door (413)',
      async (action, _field, pathOf, bodyOf, authed) => {
        const method = action.startsWith('update') ? 'PUT' : 'POST';
        // Over every JSON limit: the gateway's row (64 KiB; posts 256 KiB, the longest description fits).
        const res = await api(method, pathOf(), {
          body: bodyOf(huge),
          token: authed ? owner.token : undefined,
        });
        expect(res.status).toBe(413);
      },
    );

    it.each(fields)(
      '%s: a %s of 60,000 characters is refused by the service',
      async (action, field, pathOf, bodyOf, authed, shortStatus) => {
        const method = action.startsWith('update') ? 'PUT' : 'POST';
        // Under the gateway's row limit, over every field's own length limit: the service answers, with
        // a 413 where the body is over its own limit (auth, comments: 8 KiB), else the field's error.
        const path = pathOf();
        const service: ServiceName = path.startsWith('/api/auth')
          ? 'auth'
          : path.includes('comments')
            ? 'comments'
            : 'posts';
        const body = bodyOf('x'.repeat(60_000));
        const status = Buffer.byteLength(JSON.stringify(body)) > limitOf(service, path) ? 413 : shortStatus;
        const res = await api(method, path, {
          body,
          token: authed ? owner.token : undefined,
        });
        expect(res.status).toBe(status);
        if (status === 400) expect(res.body.error).toContain(field);
      },
    );

    it.each(fields.filter(([, , , , , status]) => status === 400))(
      '%s: a %s with a NUL character is a 400, never a database error',
      async (action, field, pathOf, bodyOf, authed) => {
        const method = action.startsWith('update') ? 'PUT' : 'POST';
        const value = field === 'age' ? 'a\u0000b' : 'abcdef\u0000ghijkl';
        const res = await api(method, pathOf(), {
          body: bodyOf(value),
          token: authed ? owner.token : undefined,
        });
        expect(res.status).toBe(400);
      },
    );

    it('a login or refresh with a NUL character is refused without a 500', async () => {
      const login = await api('POST', '/api/auth/login', {
        body: { username: 'ab\u0000cd', password: 'secret-pass' },
      });
      expect([400, 401]).toContain(login.status);
      const refresh = await api('POST', '/api/auth/refresh', { body: { refresh_token: 'ab\u0000cd' } });
      expect(refresh.status).toBe(401);
    });

    it('a 10 KB query value or path id is a 400, a 1 MB one refused by the gateway HTTP parser, never a 5xx', async () => {
      const long = '9'.repeat(10 * 1024);
      for (const p of [
        `/api/posts?tag=${'t'.repeat(10 * 1024)}`,
        `/api/posts?user_id=${long}`,
        `/api/comments?post_id=${long}`,
      ]) {
        expect({ p: p.slice(0, 30), status: (await api('GET', p)).status }).toEqual({
          p: p.slice(0, 30),
          status: 400,
        });
      }
      for (const p of [
        `/api/posts/${long}`,
        `/api/comments/${long}`,
        `/api/users/${long}`,
        `/api/posts/attachments/${long}`,
      ]) {
        expect({ p: p.slice(0, 30), status: (await api('GET', p)).status }).toEqual({
          p: p.slice(0, 30),
          status: 400,
        });
      }
      // Node answers 431 and closes; a client still writing the header may see the reset first.
      const outcome = await rawRequest(gatewayUrl(), 'GET', `/api/posts?tag=${'t'.repeat(MB)}`).then(
        (res) => res.status,
        (err: NodeJS.ErrnoException) => err.code,
      );
      expect([431, 'ECONNRESET', 'EPIPE']).toContain(outcome);
    });
  });

  describe('SQL fragments and path traversal', () => {
    const SQL = [
      "' OR 1=1 --",
      '1; DROP TABLE posts',
      '1 OR 1=1',
      '" OR ""="',
      "'; SELECT pg_sleep(3); --",
      "1' UNION SELECT password_hash FROM users --",
    ];
    const TRAVERSAL = [
      '../../etc/passwd',
      '..%2f..%2fetc%2fpasswd',
      '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '..\\..\\windows\\win.ini',
    ];
    const PAYLOADS = [...SQL, ...TRAVERSAL];
    const document = JSON.parse(
      readFileSync(path.resolve(__dirname, '../../services/gateway/openapi/openapi.json'), 'utf8'),
    ) as { paths: Record<string, Record<string, unknown>> };
    const idRoutes = Object.entries(document.paths)
      .filter(([p]) => p.includes('{id}'))
      .flatMap(([p, ops]) =>
        Object.keys(ops)
          .filter((m) => ['get', 'post', 'put', 'delete'].includes(m))
          .map((m) => ({ method: m.toUpperCase(), template: p })),
      );

    const harmless = (res: ApiResponse, where: string, started: number) => {
      expect({ where, server_error: res.status >= 500 }).toEqual({ where, server_error: false });
      expect({
        where,
        leaked: /root:x:0:0|\[extensions\]|syntax error at or near|SQLSTATE|relation "/i.test(res.text),
      }).toEqual({
        where,
        leaked: false,
      });
      // pg_sleep(3) never ran.
      expect({ where, slow: Date.now() - started > 2500 }).toEqual({ where, slow: false });
    };

    it('the sweep covers every path with an id in the API document', () => {
      expect(idRoutes.length).toBeGreaterThanOrEqual(20);
    });

    it.each(PAYLOADS)('%s as the id of every documented route is a 400', async (payload) => {
      await inBatches(idRoutes, 8, async ({ method, template }) => {
        const p = template.replace('{id}', encodeURIComponent(payload));
        const started = Date.now();
        const res = await rawRequest(gatewayUrl(), method, p, {
          headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
          body: method === 'POST' || method === 'PUT' ? '{}' : undefined,
        });
        harmless(res, `${method} ${p}`, started);
        expect({ where: `${method} ${p}`, status: res.status }).toEqual({
          where: `${method} ${p}`,
          status: 400,
        });
      });
    });

    it.each([
      '/api/posts/../../../../etc/passwd',
      '/api/posts/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/api/posts/..%2f..%2f..%2fetc%2fpasswd',
      '/api/posts/attachments/..%2f..%2f..%2fetc%2fpasswd/file',
      '/api/comments/attachments/%2e%2e%2f%2e%2e%2fetc%2fpasswd/file',
      '/docs/assets/..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/docs/assets/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/docs/../../../etc/passwd',
      '/api/openapi.json/..%2f..%2fpackage.json',
    ])('raw path %s reads no file', async (p) => {
      const started = Date.now();
      const res = await rawRequest(gatewayUrl(), 'GET', p);
      harmless(res, p, started);
      expect([400, 404]).toContain(res.status);
      expect(res.text).not.toMatch(/"dependencies"|"devDependencies"/);
    });

    it.each(PAYLOADS)('%s in every query parameter is a 400 or a literal match', async (payload) => {
      const q = encodeURIComponent(payload);
      const cases: Array<[string, number]> = [
        [`/api/posts?tag=${q}`, 200],
        [`/api/posts?user_id=${q}`, 400],
        [`/api/posts?page=${q}`, 400],
        [`/api/posts?limit=${q}`, 400],
        [`/api/comments?post_id=${q}`, 400],
        [`/api/comments?post_id=${postId}&page=${q}`, 400],
        [`/api/posts/${postId}/comments?limit=${q}`, 400],
      ];
      for (const [p, status] of cases) {
        const started = Date.now();
        const res = await api('GET', p);
        harmless(res, p, started);
        expect({ p, status: res.status }).toEqual({ p, status });
        // The tag is compared as a value: only posts carrying exactly this tag (earlier runs' ones).
        if (status === 200) for (const post of res.body) expect(post.tag).toBe(payload);
      }
    });

    it.each(PAYLOADS)('%s in every body string is refused or stored literally', async (payload) => {
      const started = Date.now();
      // Posts: title, description and tag come back exactly as sent.
      const post = await api('POST', '/api/posts', {
        token: owner.token,
        body: { title: `T ${payload}`, description: `Description ${payload}`, tag: payload.slice(0, 50) },
      });
      harmless(post, 'create post', started);
      expect(post.status).toBe(201);
      const read = await api('GET', `/api/posts/${post.body.id}`);
      expect(read.body).toMatchObject({
        title: `T ${payload}`,
        description: `Description ${payload}`,
        tag: payload.slice(0, 50),
      });
      const updated = await api('PUT', `/api/posts/${post.body.id}`, {
        token: owner.token,
        body: { title: `U ${payload}` },
      });
      expect(updated.body.title).toBe(`U ${payload}`);
      // Comments: the text, through both create routes and the update.
      const comment = await api('POST', '/api/comments', {
        token: owner.token,
        body: { post_id: post.body.id, text: payload },
      });
      harmless(comment, 'create comment', started);
      expect(comment.status).toBe(201);
      expect((await api('GET', `/api/comments/${comment.body.id}`)).body.text).toBe(payload);
      const edited = await api('PUT', `/api/comments/${comment.body.id}`, {
        token: owner.token,
        body: { text: `${payload} edited` },
      });
      expect(edited.body.text).toBe(`${payload} edited`);
      // Users: the name and username are stored literally; logging in with them works.
      const username = `${payload.replace(/\s/g, '_').slice(0, 40)}${uniq('')}`;
      const reg = await api('POST', '/api/auth/register', {
        body: {
          name: `N ${payload}`.slice(0, 100),
          username,
          email: `${uniq('sqli')}@example.test`,
          password: payload.padEnd(8, '!'),
        },
      });
      harmless(reg, 'register', Date.now());
      expect(reg.status).toBe(201);
      const login = await api('POST', '/api/auth/login', {
        body: { username, password: payload.padEnd(8, '!') },
      });
      expect(login.status).toBe(200);
      expect(login.body.user).toMatchObject({ username, name: `N ${payload}`.slice(0, 100) });
      // A payload where a name or a token is expected finds nobody.
      const probes = await Promise.all([
        api('POST', '/api/auth/login', {
          body: { username: payload.padEnd(3, ' x'), password: payload.padEnd(8, '!') },
        }),
        api('POST', '/api/auth/refresh', { body: { refresh_token: payload } }),
        api('GET', '/api/auth/me', { headers: { authorization: `Bearer ${payload}` } }),
      ]);
      for (const p of probes) harmless(p, 'auth probe', Date.now());
      expect(probes.map((p) => p.status)).toEqual([401, 401, 401]);
    });

    it('left every table in place', async () => {
      expect((await api('GET', `/api/posts?tag=${tag}`)).headers.get('x-total-count')).toBe('101');
      expect((await api('GET', `/api/posts/${postId}/comments`)).headers.get('x-total-count')).toBe('101');
      expect((await api('GET', `/api/users/${owner.id}`)).status).toBe(200);
    });
  });

  describe('upload abuse', () => {
    const uploadPath = () => `/api/posts/${postId}/attachments`;

    it('a declared body over the upload limit is a 413 at once, through the gateway and at attachments', async () => {
      const atGateway = await announceBody(gatewayUrl(), 'POST', uploadPath(), {
        declared: 200 * MB,
        send: 0,
        contentType: 'multipart/form-data; boundary=x',
        token: owner.token,
      });
      expect(atGateway.status).toBe(413);
      // Under the gateway's limit, over the service's own.
      const atService = await announceBody(serviceUrl('attachments'), 'POST', uploadPath(), {
        declared: 51.5 * MB,
        send: 0,
        contentType: 'multipart/form-data; boundary=x',
        token: owner.token,
      });
      expect(atService.status).toBe(413);
    });

    it('a chunked upload past the limit is refused while the client is still sending', async () => {
      const res = await announceBody(gatewayUrl(), 'POST', uploadPath(), {
        send: 53 * MB,
        end: false,
        contentType: 'multipart/form-data; boundary=x',
        token: owner.token,
      });
      expect([400, 413]).toContain(res.status);
    });

    it.each([
      ['a JSON body', 'application/json', '{"files":"x"}', 415],
      ['a url-encoded form', 'application/x-www-form-urlencoded', 'files=x', 415],
      ['multipart without a boundary', 'multipart/form-data;', '--x\r\n', 400],
      [
        'a multipart body that never closes',
        'multipart/form-data; boundary=zz',
        '--zz\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\nabc',
        400,
      ],
    ])('%s is refused with %i and stores nothing', async (_n, contentType, raw, status) => {
      const res = await api('POST', uploadPath(), {
        token: owner.token,
        raw,
        headers: { 'content-type': contentType },
      });
      expect(res.status).toBe(status);
      expect((await api('GET', uploadPath())).body).toEqual([]);
    });

    const form = (files: Array<[Buffer | string, string, string?]>, extraFields = 0) => {
      const f = new FormData();
      for (let i = 0; i < extraFields; i += 1) f.append(`field${i}`, 'v');
      for (const [bytes, name, type] of files)
        f.append('files', new Blob([bytes], { type: type ?? 'image/png' }), name);
      return f;
    };
    it.each([
      [
        'an SVG with a script',
        [
          [
            '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            'x.svg',
            'image/svg+xml',
          ],
        ],
        0,
        415,
      ],
      ['PDF bytes named .png', [['%PDF-1.4\n%âãÏÓ\n1 0 obj\n', 'photo.png']], 0, 415],
      [
        'a Windows executable named .txt',
        [[Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)]), 'notes.txt', 'text/plain']],
        0,
        415,
      ],
      ['a thousand form fields', [['hello\n', 'a.txt', 'text/plain']], 1000, 413],
    ] as Array<[string, Array<[Buffer | string, string, string?]>, number, number]>)(
      '%s is refused with %i and stores nothing',
      async (_n, files, extraFields, status) => {
        const res = await fetch(`${gatewayUrl()}${uploadPath()}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${owner.token}` },
          body: form(files, extraFields),
        });
        expect(res.status).toBe(status);
        expect((await api('GET', uploadPath())).body).toEqual([]);
      },
    );
  });
});
