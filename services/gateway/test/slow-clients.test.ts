import net from 'node:net';
import type { Redis } from 'ioredis';
import { redisClient, startGateway, type GatewayOptions, type RunningGateway } from './support/gateway';
import { rawExchange, send, type RawReply } from './support/http';
import { startJwksServer, signingKey, type JwksServer } from './support/tokens';
import { startEchoUpstream, type EchoUpstream } from './support/upstream';

/**
 * The audit's finding: ~300 connections trickling chunked bodies took every upstream connection
 * of one service, and other requests to it were cut after 11 s with no answer at all. The class:
 * whatever one client holds (connections, requests, bodies in flight), however slowly it sends
 * (head, body), and whatever happens when the pool toward a service is full, every request gets
 * a prompt JSON answer and a slow client holds nothing of a service.
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

async function gateway(env: Record<string, string>, extra: Partial<GatewayOptions> = {}) {
  const g = await startGateway({
    upstreams: { auth: upstream.url },
    jwksUrl: jwks.url,
    redis,
    env,
    ...extra,
  });
  gateways.push(g);
  return g;
}

/**
 * Opens a chunked POST and sends one byte of its body every `gapMs` until answered; resolves with
 * the answer (or rejects on a connection closed without one).
 */
function trickle(base: string, path: string, gapMs: number): Promise<RawReply> {
  const url = new URL(base);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    sockets.push(socket);
    let text = '';
    const timer = setInterval(() => {
      if (socket.writable) socket.write('1\r\n{\r\n');
    }, gapMs);
    const finish = (closed: boolean) => {
      const m = /^HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
      if (!m) {
        if (closed) {
          clearInterval(timer);
          reject(new Error('connection closed without an answer'));
        }
        return;
      }
      const length = /content-length: (\d+)/i.exec(m[2]!);
      if (!closed && (!length || m[3]!.length < Number(length[1]))) return;
      clearInterval(timer);
      socket.destroy();
      resolve({ status: Number(m[1]), headers: {}, body: m[3]!, ms: Date.now() - started });
    };
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      finish(false);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
    socket.write(
      `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`,
    );
  });
}

describe('slow bodies', () => {
  it('a slow-body flood holds no upstream connection: readers are answered at once, every trickler gets JSON', async () => {
    const g = await gateway({
      UPSTREAM_MAX_SOCKETS: '8',
      CLIENT_MAX_BODIES: '16',
      BODY_TIMEOUT_MS: '3000',
      BODY_IDLE_TIMEOUT_MS: '2000',
    });
    const before = upstream.received.length;
    const attack = Array.from({ length: 60 }, () =>
      trickle(g.url, '/api/posts', 500).catch((err: Error) => ({ status: 0, body: err.message, ms: 0 })),
    );
    // While the bodies trickle, a reader gets its post promptly, again and again. The first read
    // meets the connection burst itself (test, gateway and stand-in share this process), so it
    // gets a looser bound; after it, every read is under a second.
    const reads: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const res = await send(g.url, '/api/posts/1');
      expect(res.status).toBe(200);
      reads.push(res.ms);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect({ first: reads[0]! < 3000, rest: Math.max(...reads.slice(1)) < 1000, reads }).toMatchObject({
      first: true,
      rest: true,
    });
    const answers = await Promise.all(attack);
    // Past the per-client cap at once with a 429, the rest cut with a 408 when their time is up.
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 429).length).toBe(60 - 16);
    expect(statuses.filter((s) => s === 408).length).toBe(16);
    for (const a of answers) expect(JSON.parse(a.body)).toMatchObject({ error: expect.any(String) });
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(5000);
    // None of the tricklers ever reached the service.
    expect(upstream.received.slice(before).filter((r) => r.method === 'POST')).toHaveLength(0);
  }, 20_000);

  it('bodies held in memory are bounded for all clients together: past it a 503 JSON', async () => {
    const g = await gateway({ BUFFERED_BODIES_MAX_BYTES: '1024', BODY_IDLE_TIMEOUT_MS: '1500' });
    const head =
      'POST /api/comments HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 800';
    const held = rawExchange(g.url, head, '{"text":');
    await new Promise((r) => setTimeout(r, 200));
    const refused = await rawExchange(g.url, head, '{"text":');
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'gateway busy, try again later' });
    expect((await held).status).toBe(408);
    // The room is given back with the answer.
    const body = JSON.stringify({ text: 'x'.repeat(700) });
    const ok = await rawExchange(
      g.url,
      `POST /api/comments HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}`,
      body,
    );
    expect(ok.status).toBe(200);
  });

  it('a body that stalls gets a 408 JSON within the idle timeout, and the service never sees it', async () => {
    const g = await gateway({ BODY_IDLE_TIMEOUT_MS: '700' });
    const before = upstream.received.length;
    const reply = await rawExchange(
      g.url,
      'POST /api/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100',
      '{"username":',
    );
    expect(reply.status).toBe(408);
    expect(JSON.parse(reply.body)).toMatchObject({
      error: 'request body timed out',
      code: 'REQUEST_TIMEOUT',
    });
    expect(reply.ms).toBeLessThan(2000);
    expect(upstream.received.length).toBe(before);
  });

  it('an upload that stalls mid-stream gets a 408 and the service sees an aborted request', async () => {
    const g = await gateway({ BODY_IDLE_TIMEOUT_MS: '700', UPSTREAM_TIMEOUT_MS: '5000' });
    const reply = await rawExchange(
      g.url,
      'POST /api/posts/1/attachments HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=b\r\ncontent-length: 100000',
      Buffer.alloc(5000, 0x61),
    );
    expect(reply.status).toBe(408);
    expect(reply.ms).toBeLessThan(2500);
    await new Promise((r) => setTimeout(r, 100));
    const seen = upstream.received.filter((r) => r.url === '/api/posts/1/attachments').at(-1);
    expect(seen?.complete).toBe(false);
  });

  it('an upload crawling below BODY_MIN_BYTES_PER_SECOND is cut with a 408', async () => {
    const g = await gateway({ BODY_IDLE_TIMEOUT_MS: '1000', BODY_MIN_BYTES_PER_SECOND: '1024' });
    // Never silent for a whole second, but ten bytes a second.
    const reply = await trickle(g.url, '/api/posts/1/attachments', 300);
    expect(reply.status).toBe(408);
    expect(reply.ms).toBeLessThan(3000);
  });
});

describe('slow or many connections', () => {
  it('a request head that never finishes gets a 408 JSON within HEADERS_TIMEOUT_MS', async () => {
    const g = await gateway({ HEADERS_TIMEOUT_MS: '500' });
    const started = Date.now();
    const url = new URL(g.url);
    const text = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(url.port), url.hostname);
      sockets.push(socket);
      let got = '';
      socket.on('data', (c: Buffer) => (got += c.toString()));
      socket.on('close', () => resolve(got));
      socket.write('GET /api/posts HTTP/1.1\r\nhost: x\r\nx-slow: ');
    });
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'REQUEST_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('one client holds at most CLIENT_MAX_CONNECTIONS connections; the next gets a 429 JSON', async () => {
    const g = await gateway({ CLIENT_MAX_CONNECTIONS: '5' });
    const url = new URL(g.url);
    for (let i = 0; i < 5; i += 1) {
      const s = net.connect(Number(url.port), url.hostname);
      sockets.push(s);
      await new Promise((r) => s.once('connect', r));
    }
    await new Promise((r) => setTimeout(r, 50));
    const reply = await rawExchange(g.url, 'GET /api/posts HTTP/1.1\r\nhost: x');
    expect(reply.status).toBe(429);
    expect(JSON.parse(reply.body)).toMatchObject({ code: 'RATE_LIMITED' });
    for (const s of sockets.splice(0)) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect((await rawExchange(g.url, 'GET /api/posts HTTP/1.1\r\nhost: x')).status).toBe(200);
  });

  it('one client has at most CLIENT_MAX_REQUESTS requests in flight; the next gets a 429 at once', async () => {
    const g = await gateway({ CLIENT_MAX_REQUESTS: '3', UPSTREAM_TIMEOUT_MS: '3000' });
    const hanging = Array.from({ length: 3 }, () => send(g.url, '/api/posts/__hang'));
    await new Promise((r) => setTimeout(r, 200));
    const res = await send(g.url, '/api/posts/1');
    expect(res.status).toBe(429);
    expect(res.ms).toBeLessThan(500);
    expect(res.json()).toMatchObject({ code: 'RATE_LIMITED' });
    expect((await Promise.all(hanging)).map((r) => r.status)).toEqual([504, 504, 504]);
  });

  it('a request that cannot get an upstream connection in time gets a prompt 503 JSON', async () => {
    const g = await gateway({
      UPSTREAM_MAX_SOCKETS: '2',
      UPSTREAM_QUEUE_TIMEOUT_MS: '300',
      UPSTREAM_TIMEOUT_MS: '3000',
    });
    const hanging = [send(g.url, '/api/posts/__hang'), send(g.url, '/api/posts/__hang')];
    await new Promise((r) => setTimeout(r, 200));
    const res = await send(g.url, '/api/posts/1');
    expect(res.status).toBe(503);
    expect(res.json()).toMatchObject({ error: 'posts service busy, try again later', code: 'UNAVAILABLE' });
    expect(res.headers['retry-after']).toBe('1');
    expect(res.ms).toBeLessThan(1000);
    await Promise.all(hanging);
    // The pool is free again: the next request is served.
    expect((await send(g.url, '/api/posts/1')).status).toBe(200);
  });

  it('answers a request Node cannot parse with a 400 JSON, not a bare close', async () => {
    const g = await gateway({});
    const reply = await rawExchange(g.url, 'GET /api/posts HTTP/1.1\r\nhost: x\r\nbad header line');
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toMatchObject({ code: 'BAD_REQUEST' });
  });
});
