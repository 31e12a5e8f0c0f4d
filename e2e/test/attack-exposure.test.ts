import { readFileSync } from 'node:fs';
import path from 'node:path';
import { api, gatewayUrl, newUser, rawRequest, uniq, type ApiResponse, type TestUser } from './client';

// Crawls every documented GET, as each kind of caller, and provokes every kind of error answer;
// nothing that comes back may carry a secret, another user's email, or a look inside the code.

interface Seen {
  what: string;
  res: ApiResponse;
}

/** Texts no response may contain: password material, stack frames, paths, database and driver errors. */
const FORBIDDEN: Array<[string, RegExp]> = [
  ['a password field', /"password(_hash)?"\s*:/i],
  ['password_hash', /password_hash/i],
  ['a bcrypt hash', /\$2[abxy]\$\d\d\$/],
  ['a stack frame', /\bat (?:async )?[\w$.<>[\] ]*\(?(?:\/|file:|node:)[^)\s]*:\d+:\d+/],
  ['node_modules', /node_modules/],
  ['a source path', /\/work\/|dist\/src|\.ts:\d+|\.js:\d+/],
  [
    'a PostgreSQL error',
    /duplicate key|violates|syntax error at or near|relation "|column "|invalid input syntax|SQLSTATE|out of range for type/i,
  ],
  ['a driver error', /knex|\bpg_|ECONNREFUSED|ETIMEDOUT|QueryFailed|TypeError|ReferenceError|RangeError/],
];

const document = JSON.parse(
  readFileSync(path.resolve(__dirname, '../../services/gateway/openapi/openapi.json'), 'utf8'),
) as { paths: Record<string, Record<string, unknown>> };
const OPERATIONS = Object.entries(document.paths).flatMap(([p, ops]) =>
  Object.keys(ops)
    .filter((m) => ['get', 'post', 'put', 'delete', 'patch'].includes(m))
    .map((m) => ({ method: m.toUpperCase(), template: p })),
);

describe('no response exposes secrets, other users, stack traces or database errors', () => {
  let owner: TestUser;
  let other: TestUser;
  const ids: Record<string, number> = {};
  const seen: Seen[] = [];
  const keep = async (what: string, pending: Promise<ApiResponse>): Promise<ApiResponse> => {
    const res = await pending;
    seen.push({ what, res });
    return res;
  };

  /** A documented path with each `{id}` filled from the fixtures, by what the path names. */
  const fill = (template: string, id?: string | number): string => {
    if (id !== undefined) return template.replace('{id}', String(id));
    if (template.startsWith('/api/users/')) return template.replace('{id}', String(owner.id));
    if (template.startsWith('/api/posts/attachments/'))
      return template.replace('{id}', String(ids.postAttachment));
    if (template.startsWith('/api/comments/attachments/'))
      return template.replace('{id}', String(ids.commentAttachment));
    if (template.startsWith('/api/comments/')) return template.replace('{id}', String(ids.comment));
    return template.replace('{id}', String(ids.post));
  };

  beforeAll(async () => {
    [owner, other] = await Promise.all([
      newUser({ name: 'Exposed Owner' }),
      newUser({ name: 'Curious Other' }),
    ]);
    const post = await api('POST', '/api/posts', {
      token: owner.token,
      body: { title: 'Exposure target', description: 'Everything about it is crawled.', tag: uniq('exp') },
    });
    ids.post = post.body.id;
    ids.comment = (
      await api('POST', `/api/posts/${ids.post}/comments`, { token: owner.token, body: { text: 'crawl me' } })
    ).body.id;
    for (const kind of ['post', 'comment'] as const) {
      const form = new FormData();
      form.append('files', new Blob([Buffer.from('plain words\n')]), 'words.txt');
      const res = await fetch(`${gatewayUrl()}/api/${kind}s/${ids[kind]}/attachments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${owner.token}` },
        body: form,
      });
      expect(res.status).toBe(201);
      ids[`${kind}Attachment`] = ((await res.json()) as Array<{ id: number }>)[0]!.id;
    }
    await api('POST', `/api/posts/${ids.post}/like`, { token: owner.token });
    await api('POST', `/api/posts/${ids.post}/like`, { token: other.token });
  });

  it('crawls every documented GET as anonymous, as another user and as the owner', async () => {
    const gets = OPERATIONS.filter((o) => o.method === 'GET');
    for (const { template } of gets) {
      for (const [who, token] of [
        ['anonymous', undefined],
        ['other', other.token],
        ['owner', owner.token],
      ] as const) {
        // The post list is narrowed to the owner's posts: other tests store hostile text in theirs.
        const url = template === '/api/posts' ? `/api/posts?user_id=${owner.id}` : fill(template);
        const res = await keep(`GET ${template} as ${who}`, api('GET', url, { token }));
        expect({ template, who, status: res.status < 500 }).toEqual({ template, who, status: true });
      }
    }
    // Lists, filtered to the owner's things, as the other user.
    await keep('list by user', api('GET', `/api/posts?user_id=${owner.id}`, { token: other.token }));
    await keep('comments by query', api('GET', `/api/comments?post_id=${ids.post}`, { token: other.token }));
    expect(seen.length).toBeGreaterThanOrEqual(gets.length * 3);
  });

  it('provokes every kind of error answer on every documented route', async () => {
    const bad = 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln';
    for (const { method, template } of OPERATIONS) {
      const hasId = template.includes('{id}');
      const writes = method === 'POST' || method === 'PUT';
      const probes: Array<[string, Promise<ApiResponse>]> = [
        [
          `${method} ${template} with a forged token`,
          api(method, fill(template), { headers: { authorization: bad } }),
        ],
        [
          `${method} ${template} with a malformed header`,
          api(method, fill(template), { headers: { authorization: 'Token x' } }),
        ],
      ];
      if (hasId) {
        for (const id of ['abc', '987654321', '9007199254740991', '-1', "1'"]) {
          probes.push([
            `${method} ${template} with id ${id}`,
            api(method, fill(template, id), { token: other.token }),
          ]);
        }
      }
      if (writes) {
        probes.push(
          [
            `${method} ${template} with malformed JSON`,
            api(method, fill(template), { token: other.token, raw: '{"a":' }),
          ],
          [
            `${method} ${template} with wrong types`,
            api(method, fill(template), {
              token: other.token,
              body: {
                title: { $gt: '' },
                text: ['x'],
                post_id: 'x',
                username: 1,
                password: null,
                refresh_token: 7,
              },
            }),
          ],
          [
            `${method} ${template} with a JSON string body`,
            api(method, fill(template), { token: other.token, raw: '"x"' }),
          ],
        );
      }
      for (const [what, pending] of probes) {
        const res = await keep(what, pending);
        expect({ what, status: res.status < 500 }).toEqual({ what, status: true });
      }
    }
    // Answers written by the services' own conflict and credential paths.
    await keep(
      'duplicate registration',
      api('POST', '/api/auth/register', {
        body: { name: 'Dup', username: owner.username, email: owner.email, password: 'secret-pass' },
      }),
    );
    await keep(
      'duplicate email',
      api('POST', '/api/auth/register', {
        body: {
          name: 'Dup',
          username: uniq('dup_'),
          email: owner.email.toUpperCase(),
          password: 'secret-pass',
        },
      }),
    );
    await keep(
      'wrong password',
      api('POST', '/api/auth/login', { body: { username: owner.username, password: 'nope-nope' } }),
    );
    await keep('unknown route', api('GET', '/api/posts/1/nothing'));
    await keep('unknown api', api('GET', '/api/admin'));
    await keep('raw traversal', rawRequest(gatewayUrl(), 'GET', '/api/../../etc/passwd'));
    await keep(
      'over the body limit',
      api('POST', '/api/auth/login', { raw: JSON.stringify({ x: 'y'.repeat(5 * 1024 * 1024) }) }),
    );
    await keep(
      'not JSON',
      api('POST', '/api/posts', {
        token: other.token,
        raw: 'title=x',
        headers: { 'content-type': 'text/plain' },
      }),
    );
    expect(seen.length).toBeGreaterThan(OPERATIONS.length * 3);
  });

  it('none of the answers carries a password, a hash, a stack trace or a database error', () => {
    expect(seen.length).toBeGreaterThan(100);
    const found = seen.flatMap(({ what, res }) =>
      FORBIDDEN.filter(
        // The API document describes the password fields of the register and login bodies.
        ([name, re]) =>
          re.test(res.text) && !(name === 'a password field' && what.startsWith('GET /api/openapi.json')),
      ).map(([name]) => `${what}: ${name} in ${res.text.slice(0, 200)}`),
    );
    expect(found).toEqual([]);
  });

  it("none of the answers to another user or to anonymous carries the owner's email", () => {
    const leaks = seen
      .filter(({ what }) => !what.endsWith('as owner'))
      .filter(({ res }) => res.text.toLowerCase().includes(owner.email.toLowerCase()))
      .map(({ what }) => what);
    expect(leaks).toEqual([]);
    // The owner's own answers name only the owner.
    const others = seen.filter(({ res }) => res.text.includes(other.email)).map(({ what }) => what);
    expect(others.every((w) => w.includes('as other'))).toBe(true);
  });

  it('every error answer is the JSON error shape, with a request id and nothing more revealing', () => {
    const errors = seen.filter(({ res }) => res.status >= 400);
    expect(errors.length).toBeGreaterThan(50);
    for (const { what, res } of errors) {
      expect({
        what,
        keys: Object.keys(res.body ?? {}).filter(
          (k) => !['error', 'code', 'request_id', 'details'].includes(k),
        ),
      }).toEqual({
        what,
        keys: [],
      });
      expect({ what, error: typeof res.body?.error }).toEqual({ what, error: 'string' });
    }
  });

  it('no answer names the software behind it', () => {
    for (const { what, res } of seen) {
      expect({ what, poweredBy: res.headers.get('x-powered-by') }).toEqual({ what, poweredBy: null });
      expect({ what, server: res.headers.get('server') }).toEqual({ what, server: null });
    }
  });

  it("the gateway's public port does not publish its Prometheus metrics (process, runtime version, traffic)", async () => {
    const res = await api('GET', '/metrics');
    expect({ status: res.status, runtime: /nodejs_version_info/.test(res.text) }).toEqual({
      status: 404,
      runtime: false,
    });
  });
});
