import net from 'node:net';
import type { Redis } from 'ioredis';
import { redisClient, startGateway, type RunningGateway } from './support/gateway';
import { send } from './support/http';
import { startJwksServer, signingKey, type JwksServer } from './support/tokens';

/**
 * A service that answers the first request on each connection with keep-alive, then closes the
 * connection without a word when the next request arrives on it: what a service does when it closes
 * an idle kept-alive connection at the very moment the gateway sends on it.
 */
interface ClosingUpstream {
  url: string;
  /** Per request: connection number and request line. */
  seen: string[];
  connections: number;
  /** Close the connection on every request, its first included. */
  closeEvery: boolean;
  /** Stops accepting connections (open ones stay), as a service that is shutting down. */
  stopListening(): void;
  close(): Promise<void>;
}

async function startClosingUpstream(): Promise<ClosingUpstream> {
  const sockets = new Set<net.Socket>();
  const state: ClosingUpstream = {
    url: '',
    seen: [],
    connections: 0,
    closeEvery: false,
    stopListening: () => undefined,
    close: async () => undefined,
  };
  const server = net.createServer((socket) => {
    const connection = ++state.connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    let served = 0;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffered.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.subarray(end + 4 + length);
        state.seen.push(`${connection} ${head.split('\r\n')[0]}`);
        if (served++ > 0 || state.closeEvery) {
          socket.destroy();
          return;
        }
        const body = JSON.stringify({ connection });
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
            `Connection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n${body}`,
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  state.stopListening = () => server.close();
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (server.listening) server.close(() => resolve());
      else resolve();
    });
  return state;
}

let redis: Redis;
let jwks: JwksServer;
let upstream: ClosingUpstream;
let gateway: RunningGateway;

beforeAll(async () => {
  redis = redisClient();
  jwks = await startJwksServer([signingKey('k1').jwk]);
});

beforeEach(async () => {
  upstream = await startClosingUpstream();
  gateway = await startGateway({ upstreams: { auth: upstream.url }, jwksUrl: jwks.url, redis });
});

afterEach(async () => {
  await gateway.close();
  await upstream.close();
});

afterAll(async () => {
  await jwks.close();
  await redis.quit();
});

const retriesCounted = async () => {
  const text = (await send(gateway.metricsUrl, '/metrics')).body.toString('utf8');
  return Number(/^gateway_upstream_retries_total\{[^}]*upstream="auth"[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0);
};

describe('a service closing a kept-alive connection the gateway reuses', () => {
  it('gets a GET retried once on a fresh connection, answered 200', async () => {
    expect((await send(gateway.url, '/api/users/1')).json()).toEqual({ connection: 1 });

    const res = await send(gateway.url, '/api/users/2');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ connection: 2 });
    expect(upstream.seen).toEqual([
      '1 GET /api/users/1 HTTP/1.1',
      '1 GET /api/users/2 HTTP/1.1',
      '2 GET /api/users/2 HTTP/1.1',
    ]);
    expect(await retriesCounted()).toBe(1);
  });

  it('gets a POST without a body retried too', async () => {
    await send(gateway.url, '/api/users/1');
    const res = await send(gateway.url, '/api/users/1/follow', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(upstream.seen.slice(1)).toEqual([
      '1 POST /api/users/1/follow HTTP/1.1',
      '2 POST /api/users/1/follow HTTP/1.1',
    ]);
  });

  it('answers a POST with a body 502 JSON without sending it again', async () => {
    await send(gateway.url, '/api/users/1');
    const res = await send(gateway.url, '/api/users/1', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"ann"}',
    });
    expect(res.status).toBe(502);
    expect(res.json()).toMatchObject({ error: 'auth service failed', code: 'BAD_GATEWAY' });
    expect(upstream.seen).toEqual(['1 GET /api/users/1 HTTP/1.1', '1 POST /api/users/1 HTTP/1.1']);
    expect(upstream.connections).toBe(1);
    expect(await retriesCounted()).toBe(0);
  });

  // A service shutting down stops listening, then closes its idle connections: a request crossing that
  // close on the wire is sent again and finds nobody. The service is down: 503, as for any request then.
  it('answers 503 "unavailable" when the retry finds nothing listening', async () => {
    await send(gateway.url, '/api/users/1');
    upstream.stopListening();
    const res = await send(gateway.url, '/api/users/1/follow', { method: 'POST' });
    expect(res.status).toBe(503);
    expect(res.json()).toMatchObject({ error: 'auth service unavailable', code: 'UNAVAILABLE' });
    expect(upstream.seen.slice(1)).toEqual(['1 POST /api/users/1/follow HTTP/1.1']);
    expect(await retriesCounted()).toBe(1);
  });

  it('retries once only: a retry that fails as well is answered 502 JSON', async () => {
    await send(gateway.url, '/api/users/1');
    upstream.closeEvery = true;
    const res = await send(gateway.url, '/api/users/3');
    expect(res.status).toBe(502);
    expect(res.json()).toMatchObject({ error: 'auth service failed', code: 'BAD_GATEWAY' });
    expect(upstream.seen.slice(1)).toEqual(['1 GET /api/users/3 HTTP/1.1', '2 GET /api/users/3 HTTP/1.1']);
    expect(await retriesCounted()).toBe(1);
  });
});
