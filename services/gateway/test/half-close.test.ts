import net from 'node:net';
import type { Redis } from 'ioredis';
import { redisClient, startGateway, type RunningGateway } from './support/gateway';
import { halfClosedExchange, rawExchange, send } from './support/http';
import { startJwksServer, signingKey, type JwksServer } from './support/tokens';
import { startEchoUpstream, type EchoUpstream } from './support/upstream';

/**
 * An outside replay wrote `POST /api/auth/login` with its JSON body, then `socket.end()`: a FIN
 * that closes only the client's write side. It got an empty reply. A half-closed connection can
 * still receive, and a request is framed by its length, not by the connection closing, so the
 * class: every request that is whole when the FIN arrives gets its answer, whoever gives it, and
 * the connection is closed after it. A client that goes away before its request is whole, or
 * resets, still cancels the upstream request and frees what it held, and a half-closed socket
 * holds nothing longer than the existing timeouts allow.
 */

let redis: Redis;
let upstream: EchoUpstream;
let jwks: JwksServer;
const gateways: RunningGateway[] = [];
const sockets: net.Socket[] = [];

beforeAll(async () => {
  redis = redisClient();
  upstream = await startEchoUpstream();
  jwks = await startJwksServer([signingKey('k1').jwk]);
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

afterAll(async () => {
  await upstream.close();
  await jwks.close();
  await redis.quit();
});

async function gateway(env: Record<string, string> = {}) {
  const g = await startGateway({ upstreams: { auth: upstream.url }, jwksUrl: jwks.url, redis, env });
  gateways.push(g);
  return g;
}

/** A request head as a keep-alive client writes it (no `Connection: close`), blank line included. */
const head = (line: string, ...headers: string[]) => [line, 'host: x', ...headers, '', ''].join('\r\n');

const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

const LOGIN = '{"username":"ann","password":"s3cret!"}';
const loginHead = head(
  'POST /api/auth/login HTTP/1.1',
  'content-type: application/json',
  `content-length: ${LOGIN.length}`,
);

/** What the stand-in service saw of the last request to `url`. */
const seen = (url: string) => upstream.received.filter((r) => r.url === url).at(-1);

/** Resolves once the connection closes, with how long it took after the client's FIN. */
function closedAfterFin(socket: net.Socket): Promise<number> {
  return new Promise((resolve) => {
    let finAt = Date.now();
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(Date.now() - finAt));
    socket.end(() => {
      finAt = Date.now();
    });
  });
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Case {
  /** The bytes the client writes before its FIN. */
  request: string[];
  status: number;
  /** Fields the JSON answer must hold. */
  answer: Record<string, unknown>;
}

/**
 * Sends each case on its own connection, half-closed once the request is written, and checks its
 * answer and that the gateway closed the connection promptly after it. Each result names its
 * request line, so a failure says which case broke.
 */
async function expectAnswered(g: RunningGateway, cases: Case[]): Promise<void> {
  const outcomes = [];
  for (const c of cases) {
    const line = c.request[0]!.split('\r\n')[0];
    const reply = await halfClosedExchange(g.url, c.request);
    outcomes.push({
      line,
      status: reply.status,
      answer: json(reply.body),
      closedPromptly: reply.closedAfterFinMs < 1000,
    });
  }
  expect(outcomes).toMatchObject(
    cases.map((c) => ({
      line: c.request[0]!.split('\r\n')[0],
      status: c.status,
      answer: c.answer,
      closedPromptly: true,
    })),
  );
}

describe('a client that half-closes after a whole request gets its answer', () => {
  it('proxied with a JSON body: POST /api/auth/login', async () => {
    const g = await gateway();
    await expectAnswered(g, [
      {
        request: [loginHead, LOGIN],
        status: 200,
        answer: { method: 'POST', url: '/api/auth/login', bodyLength: LOGIN.length },
      },
    ]);
    expect(seen('/api/auth/login')).toMatchObject({ complete: true, cancelled: false });
    expect(seen('/api/auth/login')?.body.toString()).toBe(LOGIN);
  });

  it('proxied without a body: GET, a bodyless POST with or without Content-Length: 0, DELETE', async () => {
    const g = await gateway();
    const requests: Array<[string, string, string[]]> = [
      ['GET', '/api/posts/1', []],
      ['POST', '/api/posts/1/like', []],
      ['POST', '/api/posts/2/like', ['content-length: 0']],
      ['DELETE', '/api/posts/3', []],
    ];
    await expectAnswered(
      g,
      requests.map(([method, url, headers]) => ({
        request: [head(`${method} ${url} HTTP/1.1`, ...headers)],
        status: 200,
        answer: { method, url, bodyLength: 0 },
      })),
    );
    for (const [method, url] of requests)
      expect(seen(url)).toMatchObject({ method, complete: true, cancelled: false });
  });

  it('answered by the gateway itself: /health, documents, 404, 400 malformed path, 401, 413, 429', async () => {
    const g = await gateway({ RATE_LIMIT_AUTH_MAX: '1' });
    // The one sign-in the window allows; the half-closed one below is over the limit.
    expect((await send(g.url, '/api/auth/login', { method: 'POST', body: LOGIN })).status).toBe(200);
    const before = upstream.received.filter((r) => r.url !== '/readyz').length;
    await expectAnswered(g, [
      { request: [head('GET /health HTTP/1.1')], status: 200, answer: { status: 'ok' } },
      { request: [head('GET /api/openapi.json HTTP/1.1')], status: 200, answer: { openapi: '3.1.0' } },
      { request: [head('GET /api/nowhere HTTP/1.1')], status: 404, answer: { error: 'route not found' } },
      {
        request: [
          head(
            'POST /api/auth//login HTTP/1.1',
            'content-type: application/json',
            `content-length: ${LOGIN.length}`,
          ),
          LOGIN,
        ],
        status: 400,
        answer: { error: 'malformed request path' },
      },
      {
        request: [head('GET /api/posts/1 HTTP/1.1', 'authorization: Bearer not-a-token')],
        status: 401,
        answer: { error: 'invalid token' },
      },
      {
        request: [
          head('POST /api/comments HTTP/1.1', 'content-type: application/json', 'content-length: 70000'),
          'x'.repeat(70000),
        ],
        status: 413,
        answer: { error: 'request body too large' },
      },
      {
        request: [loginHead, LOGIN],
        status: 429,
        answer: { error: 'too many requests, try again later' },
      },
    ]);
    // Only /health's readiness checks reached a service.
    expect(upstream.received.filter((r) => r.url !== '/readyz').length).toBe(before);
  });

  it('chunked bodies: a JSON body the gateway reads whole, and an upload streamed to the service', async () => {
    const g = await gateway();
    const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`;
    const bodies: Array<[string, string, string]> = [
      ['/api/comments', 'application/json', '{"text":"hi"}'],
      [
        '/api/posts/1/attachments',
        'multipart/form-data; boundary=b',
        '--b\r\ncontent-disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n--b--\r\n',
      ],
    ];
    await expectAnswered(
      g,
      bodies.map(([url, type, body]) => ({
        request: [
          head(`POST ${url} HTTP/1.1`, `content-type: ${type}`, 'transfer-encoding: chunked'),
          chunk(body.slice(0, 5)),
          chunk(body.slice(5)),
          '0\r\n\r\n',
        ],
        status: 200,
        answer: { method: 'POST', url, bodyLength: body.length },
      })),
    );
    for (const [url, , body] of bodies) {
      expect(seen(url)).toMatchObject({ complete: true, cancelled: false });
      expect(seen(url)?.body.toString()).toBe(body);
    }
  });
});

describe('a client that goes away', () => {
  it('with a FIN before its request is whole: reaches no service, cancels a streamed one, frees its slots', async () => {
    // One of everything: a slot still held after the FIN would refuse the request that follows.
    const g = await gateway({
      CLIENT_MAX_REQUESTS: '1',
      CLIENT_MAX_BODIES: '1',
      UPSTREAM_MAX_SOCKETS: '1',
      UPSTREAM_QUEUE_TIMEOUT_MS: '200',
    });
    const cut: string[][] = [
      // A declared length, half sent; then a chunked body cut inside a chunk.
      [
        head(
          'POST /api/auth/login?cut=length HTTP/1.1',
          'content-type: application/json',
          'content-length: 100',
        ),
        '{"username":',
      ],
      [
        head(
          'POST /api/comments?cut=chunk HTTP/1.1',
          'content-type: application/json',
          'transfer-encoding: chunked',
        ),
        '5\r\n{"tex',
      ],
      // An upload, streamed to the service as it arrives.
      [
        head(
          'POST /api/posts/7/attachments?cut=upload HTTP/1.1',
          'content-type: multipart/form-data; boundary=b',
          'content-length: 10000',
        ),
        'a'.repeat(3000),
      ],
    ];
    for (const request of cut) {
      const reply = await halfClosedExchange(g.url, request);
      expect({ status: reply.status, answer: json(reply.body) }).toMatchObject({
        status: 400,
        answer: { code: 'BAD_REQUEST' },
      });
      expect(reply.closedAfterFinMs).toBeLessThan(1000);
    }
    await tick(100);
    // The JSON bodies, read whole first, never reached the service; the upload's request was cancelled.
    expect(seen('/api/auth/login?cut=length')).toBeUndefined();
    expect(seen('/api/comments?cut=chunk')).toBeUndefined();
    expect(seen('/api/posts/7/attachments?cut=upload')).toMatchObject({ complete: false, cancelled: true });

    // Every per-client slot and the one upstream connection are free again.
    const next = await rawExchange(g.url, loginHead.trimEnd(), LOGIN);
    expect(next.status).toBe(200);
  });

  it('with a reset after a whole request: the service request is cancelled and the slot freed', async () => {
    const g = await gateway({
      UPSTREAM_MAX_SOCKETS: '1',
      UPSTREAM_QUEUE_TIMEOUT_MS: '200',
      CLIENT_MAX_REQUESTS: '1',
    });
    const url = new URL(g.url);
    const socket = net.connect(Number(url.port), url.hostname);
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.write(head('GET /api/posts/__hang/reset HTTP/1.1'));
    await tick(150);
    expect(seen('/api/posts/__hang/reset')).toMatchObject({ cancelled: false });
    socket.resetAndDestroy();
    await tick(150);
    expect(seen('/api/posts/__hang/reset')).toMatchObject({ cancelled: true });
    expect((await send(g.url, '/api/posts/1')).status).toBe(200);
  });
});

describe('a half-closed socket holds nothing past the existing timeouts', () => {
  it('is closed at once when idle, and after its answer when waiting: 504 for a silent service, 503 for a full pool', async () => {
    const g = await gateway({
      CLIENT_MAX_CONNECTIONS: '2',
      UPSTREAM_MAX_SOCKETS: '1',
      UPSTREAM_QUEUE_TIMEOUT_MS: '300',
      UPSTREAM_TIMEOUT_MS: '1000',
    });
    const url = new URL(g.url);

    // No request at all, or half a head: nothing to answer, or a 400, and closed at once.
    const idle = net.connect(Number(url.port), url.hostname);
    sockets.push(idle);
    await new Promise((r) => idle.once('connect', r));
    expect(await closedAfterFin(idle)).toBeLessThan(500);
    const halfHead = await halfClosedExchange(g.url, ['GET /api/posts/1 HTTP/1.1\r\nhost: x\r\n']);
    expect(halfHead.status).toBe(400);
    expect(halfHead.closedAfterFinMs).toBeLessThan(500);

    // Waiting on a service that never answers: held until UPSTREAM_TIMEOUT_MS, no longer.
    const silent = halfClosedExchange(g.url, [head('GET /api/posts/__hang/half HTTP/1.1')]);
    await tick(100);
    // Waiting for the pool's one connection, which the first holds: held until the queue timeout.
    const queued = halfClosedExchange(g.url, [head('GET /api/posts/3 HTTP/1.1')]);
    await tick(100);
    // Both half-closed connections still count against the client's cap while they wait.
    const third = await rawExchange(g.url, 'GET /api/posts/4 HTTP/1.1\r\nhost: x');
    expect(third.status).toBe(429);

    const busy = await queued;
    expect(busy.status).toBe(503);
    expect(json(busy.body)).toMatchObject({ error: 'posts service busy, try again later' });
    expect(busy.ms).toBeLessThan(1000);
    const timedOut = await silent;
    expect(timedOut.status).toBe(504);
    expect(json(timedOut.body)).toMatchObject({ error: 'posts service timed out' });
    expect(timedOut.ms).toBeGreaterThanOrEqual(900);
    expect(timedOut.ms).toBeLessThan(2000);
    expect(seen('/api/posts/__hang/half')).toMatchObject({ cancelled: true });

    // The connections and the upstream slot are free again.
    expect((await send(g.url, '/api/posts/5')).status).toBe(200);
  });
});
