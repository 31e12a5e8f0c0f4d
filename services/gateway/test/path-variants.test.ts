import type { Redis } from 'ioredis';
import { compileRoutes, ROUTES } from '../src/http/routes';
import { redisClient, startGateway, type RunningGateway } from './support/gateway';
import { rawExchange } from './support/http';
import { startJwksServer, signingKey, type JwksServer } from './support/tokens';
import { startEchoUpstream, type EchoUpstream } from './support/upstream';

/**
 * The audit's finding: the gateway matched its route table on the raw path and the proxy
 * normalised it afterwards, so `/api/auth//login` reached auth's login past the login rate limit.
 * The class: every spelling of a path that some layer would read differently from another. For
 * every row of the real routing table and every such spelling, either the gateway refuses it
 * (400) or the service receives exactly the canonical path, and every policy of the row holds.
 */

/** One path per row of ROUTES; a row added without one fails the first test. */
const SAMPLES: Record<string, string> = {
  'auth-login': '/api/auth/login',
  'auth-register': '/api/auth/register',
  'auth-refresh': '/api/auth/refresh',
  auth: '/api/auth/logout',
  users: '/api/users/7',
  'post-attachments': '/api/posts/7/attachments',
  'post-attachment': '/api/posts/attachments/7',
  'comment-attachments': '/api/comments/7/attachments',
  'comment-attachment': '/api/comments/attachments/7',
  'post-comments': '/api/posts/7/comments',
  'post-likes': '/api/posts/7/like',
  comments: '/api/comments/7',
  posts: '/api/posts/7',
};

interface Variant {
  name: string;
  raw: (p: string, base: string) => string;
  /** What the service must receive when the gateway accepts it; undefined: refused with 400. */
  forwarded?: (p: string) => string;
}

/** Splits `/a/b/c` into `/a/b` and `c`, to spell the last separator differently. */
const lastSlash = (p: string): [string, string] => [
  p.slice(0, p.lastIndexOf('/')),
  p.slice(p.lastIndexOf('/') + 1),
];
const same = (p: string) => p;

const VARIANTS: Variant[] = [
  { name: 'canonical', raw: same, forwarded: same },
  { name: 'upper case', raw: (p) => p.toUpperCase(), forwarded: same },
  { name: 'mixed case', raw: (p) => p.replace(/[aeiou]/g, (c) => c.toUpperCase()), forwarded: same },
  { name: 'trailing slash', raw: (p) => `${p}/`, forwarded: same },
  { name: 'query string', raw: (p) => `${p}?x=1&Y=%2F`, forwarded: (p) => `${p}?x=1&Y=%2F` },
  { name: 'absolute form', raw: (p, base) => `${base}${p}`, forwarded: same },
  { name: 'absolute form, upper case', raw: (p, base) => `${base}${p.toUpperCase()}/`, forwarded: same },
  { name: 'doubled slash', raw: (p) => lastSlash(p).join('//') },
  { name: 'leading doubled slash', raw: (p) => `/${p}` },
  { name: 'trailing doubled slash', raw: (p) => `${p}//` },
  { name: 'backslash', raw: (p) => lastSlash(p).join('\\') },
  { name: 'every separator a backslash', raw: (p) => p.replace(/\//g, '\\') },
  { name: '%2f', raw: (p) => lastSlash(p).join('%2f') },
  { name: '%2F', raw: (p) => lastSlash(p).join('%2F') },
  { name: '%5c', raw: (p) => lastSlash(p).join('%5c') },
  { name: '%5C', raw: (p) => lastSlash(p).join('%5C') },
  { name: 'dot segment', raw: (p) => lastSlash(p).join('/./') },
  { name: 'dot-dot segment', raw: (p) => `/api/x/..${p.slice(4)}` },
  { name: '%2e segment', raw: (p) => lastSlash(p).join('/%2e/') },
  { name: '%2e%2e segment', raw: (p) => `/api/x/%2e%2e${p.slice(4)}` },
  { name: '%2E%2E segment', raw: (p) => `/api/x/%2E%2E${p.slice(4)}` },
  { name: 'encoded letter', raw: (p) => p.replace('/api/', '/%61pi/') },
  { name: 'matrix parameter at the end', raw: (p) => `${p};jsessionid=1` },
  { name: 'matrix parameter inside', raw: (p) => p.replace('/api/', '/api;x=1/') },
  { name: '%3b', raw: (p) => `${p}%3bx=1` },
  { name: '%00', raw: (p) => `${p}%00` },
  { name: '%00 inside', raw: (p) => p.replace('/api/', '/api%00/') },
  { name: 'fragment', raw: (p) => `${p}#x` },
  { name: 'overlong', raw: (p) => `${p}${'/a'.repeat(1100)}` },
];

/** Spellings Node's own parser refuses before the app: still a 400 JSON, never a bare close. */
const PARSER_VARIANTS: Variant[] = [
  { name: 'raw NUL', raw: (p) => `${p}\u0000` },
  { name: 'raw tab', raw: (p) => lastSlash(p).join('/\t') },
  { name: 'raw DEL', raw: (p) => `${p}\u007f` },
];

const table = compileRoutes(ROUTES);
const rows = ROUTES.map((row) => ({ ...row, ...table.match(SAMPLES[row.name] ?? '/')! }));

let redis: Redis;
let upstream: EchoUpstream;
let jwks: JwksServer;
let open: RunningGateway;
let limited: RunningGateway;

beforeAll(async () => {
  redis = redisClient();
  upstream = await startEchoUpstream();
  jwks = await startJwksServer([signingKey('k1').jwk]);
  open = await startGateway({ upstreams: { auth: upstream.url }, jwksUrl: jwks.url, redis });
  limited = await startGateway({
    upstreams: { auth: upstream.url },
    jwksUrl: jwks.url,
    redis,
    env: { RATE_LIMIT_AUTH_MAX: '1' },
  });
});

afterAll(async () => {
  await open.close();
  await limited.close();
  await upstream.close();
  await jwks.close();
  await redis.quit();
});

const request = (g: RunningGateway, method: string, target: string, headers: string[] = [], body = '') =>
  rawExchange(g.url, [`${method} ${target} HTTP/1.1`, 'host: 127.0.0.1', ...headers].join('\r\n'), body);

const expectRefused = (where: string, reply: { status: number; body: string }) => {
  expect({ where, status: reply.status }).toEqual({ where, status: 400 });
  expect(JSON.parse(reply.body)).toMatchObject({ error: expect.any(String), code: 'BAD_REQUEST' });
};

it('has a sample path for every row of the routing table, matched by that row', () => {
  for (const row of ROUTES) {
    expect({ row: row.name, matched: table.match(SAMPLES[row.name] ?? '')?.name }).toEqual({
      row: row.name,
      matched: row.name,
    });
  }
});

describe.each(rows)('row $name ($upstream)', (row) => {
  const p = SAMPLES[row.name]!;

  it('forwards every accepted spelling as exactly the canonical path, and refuses the others', async () => {
    for (const v of [...VARIANTS, ...PARSER_VARIANTS]) {
      const before = upstream.received.length;
      const reply = await request(open, 'GET', v.raw(p, open.url));
      const where = `${v.name}: ${JSON.stringify(v.raw(p, open.url)).slice(0, 80)}`;
      if (v.forwarded) {
        expect({ where, status: reply.status }).toEqual({ where, status: 200 });
        expect({ where, url: upstream.received.at(-1)?.url }).toEqual({ where, url: v.forwarded(p) });
        expect({ where, url: JSON.parse(reply.body).url }).toEqual({ where, url: v.forwarded(p) });
      } else {
        expectRefused(where, reply);
        expect({ where, reached: upstream.received.length - before }).toEqual({ where, reached: 0 });
      }
    }
  });

  it('holds the early token check under every spelling', async () => {
    if (!row.verifyToken) return; // sign-in, sign-up and refresh skip it by design (routes.test.ts)
    const before = upstream.received.length;
    for (const v of VARIANTS) {
      const reply = await request(open, 'GET', v.raw(p, open.url), ['authorization: Bearer not-a-jwt']);
      const where = v.name;
      if (v.forwarded) expect({ where, status: reply.status }).toEqual({ where, status: 401 });
      else expectRefused(where, reply);
    }
    expect(upstream.received.length).toBe(before);
  });

  it("holds the row's body limit under every spelling", async () => {
    const limit = open.settings.bodyLimits[row.bodyLimit];
    const before = upstream.received.length;
    for (const v of VARIANTS) {
      const reply = await request(open, 'POST', v.raw(p, open.url), [
        'content-type: application/json',
        `content-length: ${limit + 1}`,
      ]);
      const where = v.name;
      if (v.forwarded) expect({ where, status: reply.status }).toEqual({ where, status: 413 });
      else expectRefused(where, reply);
    }
    expect(upstream.received.length).toBe(before);
  });

  it('holds the rate limit under every spelling', async () => {
    if (!row.rateLimit) return; // a row without one has nothing to side-step
    const first = await request(
      limited,
      'POST',
      p,
      ['content-type: application/json', 'content-length: 2'],
      '{}',
    );
    expect(first.status).toBe(200);
    const before = upstream.received.length;
    for (const v of VARIANTS) {
      const reply = await request(limited, 'POST', v.raw(p, limited.url), [
        'content-type: application/json',
        'content-length: 0',
      ]);
      const where = v.name;
      if (v.forwarded) expect({ where, status: reply.status }).toEqual({ where, status: 429 });
      else expectRefused(where, reply);
    }
    expect(upstream.received.length).toBe(before);
  });
});
