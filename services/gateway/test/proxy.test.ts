import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { Redis } from 'ioredis';
import { closedPort, startEchoUpstream, type EchoUpstream } from './support/upstream';
import { redisClient, startGateway, type RunningGateway } from './support/gateway';
import { send } from './support/http';
import { startJwksServer, signingKey, type JwksServer } from './support/tokens';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let redis: Redis;
let upstream: EchoUpstream;
let jwks: JwksServer;
let gateway: RunningGateway;

beforeAll(async () => {
  redis = redisClient();
  upstream = await startEchoUpstream();
  jwks = await startJwksServer([signingKey('k1').jwk]);
  gateway = await startGateway({
    upstreams: { auth: upstream.url },
    jwksUrl: jwks.url,
    redis,
    // These tests are about passing bodies through, so every row gets the same roomy limit.
    env: { BODY_LIMIT_BYTES: String(4 * 1024 * 1024), SMALL_BODY_LIMIT_BYTES: String(4 * 1024 * 1024) },
  });
});

afterAll(async () => {
  await gateway.close();
  await upstream.close();
  await jwks.close();
  await redis.quit();
});

beforeEach(() => {
  upstream.received.length = 0;
});

const last = () => upstream.received[upstream.received.length - 1]!;

/** Writes raw bytes on one connection and returns what came back within `waitMs`. */
function raw(text: string, waitMs = 300): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(Number(new URL(gateway.url).port), '127.0.0.1', () => sock.write(text));
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString('latin1')));
    sock.on('error', () => undefined);
    setTimeout(() => {
      sock.destroy();
      resolve(data);
    }, waitMs);
  });
}

const chunked = (body: string) => `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
const SMUGGLED = 'GET /api/users/smuggled HTTP/1.1\r\nHost: x\r\nX-User-Id: 1\r\n\r\n';

describe('request bodies reach the service intact', () => {
  it('passes a JSON body, method, path and query string unchanged', async () => {
    const body = '{"username":"ann","password":"s3cret!","nested":{"emoji":"\u00e9\ud83d\ude00"}}';
    const res = await send(gateway.url, '/api/users/7?fields=a,b&q=%20x%2By&q=2', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    expect(last()).toMatchObject({
      method: 'PUT',
      url: '/api/users/7?fields=a,b&q=%20x%2By&q=2',
      complete: true,
    });
    expect(last().body.toString('utf8')).toBe(body);
    expect(last().headers['content-type']).toBe('application/json');
  });

  it('passes a url-encoded body unchanged', async () => {
    const body = 'username=ann&password=p%40ss+word&tags=a&tags=b';
    await send(gateway.url, '/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(last().body.toString('latin1')).toBe(body);
  });

  it('passes a 3 MB body byte for byte', async () => {
    const body = randomBytes(3 * 1024 * 1024);
    const res = await send(gateway.url, '/api/users/upload', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    });
    expect(res.status).toBe(200);
    expect(last().body.length).toBe(body.length);
    expect(sha(last().body)).toBe(sha(body));
  });

  it('passes a chunked body without Content-Length byte for byte', async () => {
    const chunks = [randomBytes(70_000), randomBytes(1), randomBytes(300_000), Buffer.from('end')];
    const res = await send(gateway.url, '/api/users/chunked', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      chunks,
      gapMs: 5,
    });
    expect(res.status).toBe(200);
    // Read whole by the gateway first, it reaches the service with its length.
    expect(last().headers['transfer-encoding']).toBeUndefined();
    expect(last().headers['content-length']).toBe(String(Buffer.concat(chunks).length));
    expect(sha(last().body)).toBe(sha(Buffer.concat(chunks)));
  });

  it('passes every byte value of a binary body', async () => {
    const body = Buffer.from(Array.from({ length: 256 * 4 }, (_, i) => i % 256));
    await send(gateway.url, '/api/users/binary', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    });
    expect(last().body.equals(body)).toBe(true);
  });

  it('passes a DELETE without a body', async () => {
    const res = await send(gateway.url, '/api/users/7', { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(last()).toMatchObject({ method: 'DELETE', url: '/api/users/7' });
    expect(last().body.length).toBe(0);
  });
});

describe('headers on the way to the service', () => {
  it('strips every identity header a client sends', async () => {
    await send(gateway.url, '/api/users/me', {
      headers: {
        'x-user-id': '1',
        'X-Auth-User': 'admin',
        'x-authenticated-userid': '1',
        'x-user': 'root',
        'x-remote-user': 'root',
        'x-forwarded-user': 'root',
        'x-internal-token': 'x',
        'x-custom': 'kept',
      },
    });
    const names = Object.keys(last().headers);
    for (const h of [
      'x-user-id',
      'x-auth-user',
      'x-authenticated-userid',
      'x-user',
      'x-remote-user',
      'x-forwarded-user',
      'x-internal-token',
    ]) {
      expect(names).not.toContain(h);
    }
    expect(last().headers['x-custom']).toBe('kept');
  });

  it('passes the request id upstream and returns it to the client', async () => {
    const given = await send(gateway.url, '/api/users', { headers: { 'x-request-id': 'req-abc-123' } });
    expect(last().headers['x-request-id']).toBe('req-abc-123');
    expect(given.headers['x-request-id']).toBe('req-abc-123');
    const generated = await send(gateway.url, '/api/users');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(last().headers['x-request-id']).toBe(generated.headers['x-request-id']);
  });

  it("hands the service the gateway's span of the request, continuing a client's trace", async () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traced = await send(gateway.url, '/api/users', {
      headers: { traceparent: incoming, tracestate: 'x=1' },
    });
    const upstream = String(last().headers.traceparent);
    expect(upstream).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(upstream).not.toBe(incoming); // the gateway's own span, a child of the client's
    expect(traced.headers['x-trace-id']).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const fresh = await send(gateway.url, '/api/users', { headers: { traceparent: 'garbage' } });
    expect(String(last().headers.traceparent)).toContain(`-${fresh.headers['x-trace-id']}-`);
  });

  it('tells the service the real client address, not one the client made up', async () => {
    await send(gateway.url, '/api/users', {
      headers: { 'x-forwarded-for': '6.6.6.6', 'x-real-ip': '6.6.6.6', forwarded: 'for=6.6.6.6' },
    });
    expect(last().headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(last().headers['x-forwarded-proto']).toBe('http');
    expect(last().headers['x-real-ip']).toBeUndefined();
    expect(last().headers.forwarded).toBeUndefined();
  });

  it("keeps the client's Connection header off the upstream connection", async () => {
    await send(gateway.url, '/api/users', { headers: { connection: 'close, x-drop-me', 'x-drop-me': '1' } });
    expect(last().headers.connection).toBe('keep-alive');
    expect(last().headers['x-drop-me']).toBeUndefined();
  });

  it('matches routes whatever the case, and forwards the lower-case path it matched', async () => {
    const res = await send(gateway.url, '/API/Users/7');
    expect(res.status).toBe(200);
    expect(last().url).toBe('/api/users/7');
  });
});

describe('request framing', () => {
  it.each(['DELETE', 'OPTIONS'])(
    'refuses a chunked %s body instead of letting it become a smuggled request',
    async (method) => {
      const reply = await raw(
        `${method} /api/users/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(SMUGGLED)}`,
      );
      expect(reply).toMatch(/^HTTP\/1\.1 400/);
      expect(upstream.received.map((r) => r.url)).not.toContain('/api/users/smuggled');
    },
  );

  it('forwards a chunked body that looks like a request as a body, not as a request', async () => {
    const reply = await raw(
      `POST /api/users/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(SMUGGLED)}`,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    expect(upstream.received).toHaveLength(1);
    expect(last().body.toString('latin1')).toBe(SMUGGLED);
  });

  it('lets the HTTP parser refuse Content-Length together with Transfer-Encoding', async () => {
    const reply = await raw(
      `POST /api/users/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(SMUGGLED)}`,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(upstream.received).toHaveLength(0);
  });

  it('forwards a DELETE with a declared body length intact', async () => {
    const res = await send(gateway.url, '/api/users/1', {
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
      body: '{"reason":"x"}',
    });
    expect(res.status).toBe(200);
    expect(last().body.toString()).toBe('{"reason":"x"}');
  });
});

describe('responses to the client', () => {
  it('adds security headers and drops the upstream x-powered-by and CORS headers', async () => {
    const res = await send(gateway.url, '/api/users');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers an unknown route with a JSON 404 without calling a service', async () => {
    for (const path of ['/api/nothing', '/api/usersx', '/', '/api']) {
      const res = await send(gateway.url, path);
      expect(res.status).toBe(404);
      expect(res.json()).toMatchObject({ error: 'route not found', code: 'NOT_FOUND' });
      expect(res.json().request_id).toBe(res.headers['x-request-id']);
    }
    expect(upstream.received).toHaveLength(0);
  });
});

describe('body limit', () => {
  it('refuses a declared Content-Length over the limit before reading it', async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${gateway.url}/api/auth/register`, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(4 * 1024 * 1024 + 1) },
      });
      req.on('response', (r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.on('end', () => {
          resolve({ status: r.statusCode ?? 0, body });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.write('{"a":');
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({
      error: 'request body too large',
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(upstream.received).toHaveLength(0);
  });

  it('answers 413 to a client that sends its whole oversized body anyway', async () => {
    for (let i = 0; i < 5; i += 1) {
      const res = await send(gateway.url, '/api/users/big', {
        method: 'POST',
        body: randomBytes(6 * 1024 * 1024),
      });
      expect(res.status).toBe(413);
    }
    expect(upstream.received).toHaveLength(0);
  });

  it('stops a chunked body when it grows over the limit and never hands the service a complete one', async () => {
    const chunks = Array.from({ length: 12 }, () => randomBytes(512 * 1024));
    const res = await send(gateway.url, '/api/users/big', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      chunks,
      gapMs: 10,
    });
    expect(res.status).toBe(413);
    expect(res.json()).toMatchObject({ error: 'request body too large', code: 'PAYLOAD_TOO_LARGE' });
    await new Promise((r) => setTimeout(r, 100));
    expect(upstream.received.filter((r) => r.complete)).toHaveLength(0);
  });

  it('lets a chunked body under the limit through', async () => {
    const chunks = Array.from({ length: 3 }, () => randomBytes(1024 * 1024));
    const res = await send(gateway.url, '/api/users/under', { method: 'POST', chunks });
    expect(res.status).toBe(200);
    expect(last().body.length).toBe(3 * 1024 * 1024);
  });
});

describe('upstream failures', () => {
  it('answers 503 JSON at once when the service is down', async () => {
    const down = await startGateway({
      upstreams: { auth: `http://127.0.0.1:${await closedPort()}` },
      jwksUrl: jwks.url,
      redis,
    });
    try {
      const res = await send(down.url, '/api/auth/login', { method: 'POST', body: '{}' });
      expect(res.status).toBe(503);
      expect(res.json()).toMatchObject({ error: 'auth service unavailable', code: 'UNAVAILABLE' });
      expect(res.json().request_id).toBe(res.headers['x-request-id']);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.ms).toBeLessThan(1000);
    } finally {
      await down.close();
    }
  });

  it('answers 504 JSON within the upstream timeout when the service hangs', async () => {
    const res = await send(gateway.url, '/api/users/__hang');
    expect(res.status).toBe(504);
    expect(res.json()).toMatchObject({ error: 'auth service timed out', code: 'TIMEOUT' });
    expect(res.ms).toBeGreaterThanOrEqual(450);
    expect(res.ms).toBeLessThan(1500);
  });

  it('closes the client connection when the service dies mid-response instead of hanging', async () => {
    const started = Date.now();
    const outcome = await new Promise<string>((resolve) => {
      const req = http.get(`${gateway.url}/api/users/__stall`, { agent: false }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve('ended'));
        res.on('error', () => resolve('cut'));
        res.on('aborted', () => resolve('cut'));
      });
      req.on('error', () => resolve('cut'));
    });
    expect(outcome).toBe('cut');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('survives a client that aborts mid-upload and keeps serving', async () => {
    await new Promise<void>((resolve) => {
      const req = http.request(`${gateway.url}/api/users/abort`, {
        method: 'POST',
        agent: false,
        headers: { 'content-length': '100000' },
      });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(1000));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    await new Promise<void>((resolve) => {
      const req = http.get(`${gateway.url}/api/users/__hang`, { agent: false });
      req.on('error', () => resolve());
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    const res = await send(gateway.url, '/api/users');
    expect(res.status).toBe(200);
  });
});
