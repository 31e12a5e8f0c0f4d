import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { laterPort } from '@mpb/test-kit';
import { startScratchRedis, type ScratchServer } from '@mpb/test-kit/dist/infra/scratch';
import {
  api,
  apiAt,
  gatewayUrl,
  newUser,
  servicePorts,
  serviceUrl,
  type ApiResponse,
  type ServiceName,
  type TestUser,
} from './client';

// Revoked sessions reach every verifier through auth's feed (SessionRevocationService), not Redis.
// Besides the shared platform, this file runs a verifier pair of its own that it may break without
// disturbing the other files: a second gateway (with a Redis of its own, which it flushes and kills:
// a redis-server, or a container in a container run) and a second posts replica, both reaching auth's
// gRPC port through a proxy the test cuts.

const ROOT = path.resolve(__dirname, '../..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Ports for the servers a test starts: below the ephemeral range (see @mpb/test-kit laterPort). */
const freePort = laterPort;

async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  stepMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}

/** One RESP command to a Redis server; resolves with the first reply line. */
function redisCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('error', reject);
    socket.once('data', (data) => {
      resolve(data.toString().split('\r\n')[0]!);
      socket.destroy();
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

/** A TCP proxy in front of auth's gRPC port, which the test cuts (auth unreachable) and restores. */
class Proxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: number,
  ) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port: this.target });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

interface Spawned {
  proc: ChildProcess;
  exited: Promise<unknown>;
  log: string[];
}

function spawnService(name: 'gateway' | 'posts', env: Record<string, string>): Spawned {
  const log: string[] = [];
  const proc = spawn(process.execPath, [path.join(ROOT, 'services', name, 'dist/src/main.js')], {
    cwd: path.join(ROOT, 'services', name),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [proc.stdout!, proc.stderr!])
    stream.on('data', (chunk: Buffer) => {
      log.push(chunk.toString());
      if (log.length > 200) log.shift();
    });
  return { proc, exited: new Promise((resolve) => proc.once('exit', resolve)), log };
}

async function stop(s: Spawned | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!s || s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  s.proc.kill(signal);
  const timer = setTimeout(() => s.proc.kill('SIGKILL'), 15_000);
  await s.exited;
  clearTimeout(timer);
}

async function ready(s: Spawned, url: string): Promise<void> {
  await until(
    `${url} ready`,
    async () => {
      if (s.proc.exitCode !== null) throw new Error(`exited: ${s.log.join('').slice(-2000)}`);
      return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok ? true : undefined;
    },
    60_000,
    200,
  );
}

interface Route {
  service: ServiceName;
  method: string;
  path: string;
  body?: unknown;
}
type Target = Omit<Route, 'service'> & { name: string; base: () => string };

/** A protected route of each service that changes nothing for a genuine caller (a 400, 200 or 404). */
const protectedRoutes = (postId: number): Route[] => [
  { service: 'posts', method: 'POST', path: '/api/posts', body: {} },
  { service: 'comments', method: 'POST', path: '/api/comments', body: {} },
  { service: 'metrics', method: 'GET', path: `/api/posts/${postId}/like` },
  { service: 'attachments', method: 'DELETE', path: '/api/posts/attachments/987654321' },
];

const call = (t: Target, token: string): Promise<ApiResponse> =>
  apiAt(t.base(), t.method, t.path, { token, body: t.body });

describe('session revocation', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mpb-revocation-'));
  let redisPort: number;
  let redis: ScratchServer | undefined;
  let proxy: Proxy;
  let posts2: Spawned | undefined;
  let gateway2: Spawned | undefined;
  let posts2Env: Record<string, string>;
  let postId: number;
  let targets: Target[];
  const gateway2Url = () => `http://127.0.0.1:${gateway2Port}`;
  const posts2Url = () => `http://127.0.0.1:${posts2Port}`;
  let gateway2Port: number;
  let posts2Port: number;

  const startPosts2 = async () => {
    posts2 = spawnService('posts', posts2Env);
    await ready(posts2, `${posts2Url()}/readyz`);
  };

  beforeAll(async () => {
    const ports = servicePorts();
    const url = (name: ServiceName) => `http://127.0.0.1:${ports[name]!.http}`;
    redis = await startScratchRedis({ dir });
    redisPort = redis.port;
    proxy = new Proxy(await freePort(), ports.auth!.grpc!);
    await proxy.open();
    const authGrpc = `127.0.0.1:${proxy.port}`;
    [gateway2Port, posts2Port] = [await freePort(), await freePort()];
    posts2Env = {
      HTTP_PORT: String(posts2Port),
      GRPC_PORT: String(await freePort()),
      DATABASE_URL: `${process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432'}/mpb_posts${process.env.E2E_DB_SUFFIX || '_e2e'}`,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
      KAFKA_TOPIC_PREFIX: process.env.E2E_KAFKA_TOPIC_PREFIX ?? 'e2e.',
      AUTH_URL: url('auth'),
      AUTH_GRPC_ADDR: authGrpc,
      METRICS_GRPC_ADDR: `127.0.0.1:${ports.metrics!.grpc}`,
    };
    await startPosts2();
    gateway2 = spawnService('gateway', {
      HTTP_PORT: String(gateway2Port),
      METRICS_PORT: String(await freePort()),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      AUTH_URL: url('auth'),
      AUTH_GRPC_ADDR: authGrpc,
      POSTS_URL: posts2Url(),
      COMMENTS_URL: url('comments'),
      ATTACHMENTS_URL: url('attachments'),
      METRICS_URL: url('metrics'),
    });
    await ready(gateway2, `${gateway2Url()}/health`);

    const author = await newUser();
    const post = await api('POST', '/api/posts', {
      token: author.token,
      body: { title: 'Revocation probe', description: 'A post the revocation probes point at.' },
    });
    expect(post.status).toBe(201);
    postId = post.body.id;
    targets = protectedRoutes(postId).flatMap((r) => [
      { ...r, name: `${r.service} via the gateway`, base: gatewayUrl },
      { ...r, name: `${r.service} on its own port`, base: () => serviceUrl(r.service) },
      { ...r, name: `${r.service} via the second gateway`, base: gateway2Url },
    ]);
    targets.push({
      name: 'posts replica on its own port',
      base: posts2Url,
      method: 'POST',
      path: '/api/posts',
      body: {},
    });
  }, 120_000);

  afterAll(async () => {
    await stop(gateway2);
    await stop(posts2);
    await proxy?.cut();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What each target answers this token (the status codes, by target name). */
  const answers = async (token: string) =>
    Object.fromEntries(
      await Promise.all(targets.map(async (t) => [t.name, (await call(t, token)).status] as const)),
    );
  const everywhere = (status: number) => Object.fromEntries(targets.map((t) => [t.name, status]));
  /** The targets that refuse the token (401) or cannot check it (503): none, for a live session. */
  const refusing = async (token: string) =>
    (
      await Promise.all(
        targets.map(async (t) => {
          const res = await call(t, token);
          return [t.name, res.status, res.body?.error] as const;
        }),
      )
    ).filter(([, status]) => status === 401 || status === 503);
  /** Waits until no target refuses the live session (a fresh post takes a moment to reach every service). */
  const acceptedEverywhere = (token: string) =>
    until(
      'every verifier accepts the session',
      async () => ((await refusing(token)).length === 0 ? true : undefined),
      10_000,
      200,
    );

  /**
   * Asks every target, each in a loop of its own, until it refuses the token with 401. Answers the
   * targets that still accepted a request sent a second or more after `since`, with how long after
   * `since` that request was sent: none, when every verifier applied the revocation within a second.
   */
  async function acceptedOneSecondLater(token: string, since: number): Promise<Array<[string, number]>> {
    const late = await Promise.all(
      targets.map(async (t) => {
        let lastAccepted = 0;
        await until(
          `${t.name} refuses the token`,
          async () => {
            const sent = Date.now() - since;
            if ((await call(t, token)).status === 401) return true;
            lastAccepted = sent;
            return undefined;
          },
          5000,
          10,
        );
        return [t.name, lastAccepted] as [string, number];
      }),
    );
    return late.filter(([, ms]) => ms >= 1000);
  }

  let loggedOut: TestUser;
  let live: TestUser;

  it('refuses a logged-out session within a second at the gateways and directly at every service', async () => {
    loggedOut = await newUser();
    live = await newUser();
    await acceptedEverywhere(loggedOut.token);
    const logout = await api('POST', '/api/auth/logout', { token: loggedOut.token });
    expect(logout.status).toBe(204);
    const loggedOutAt = Date.now();
    expect(await acceptedOneSecondLater(loggedOut.token, loggedOutAt)).toEqual([]);
    expect(await refusing(live.token)).toEqual([]);
  }, 60_000);

  it('refuses every token of a session revoked by refresh-token reuse within a second', async () => {
    const user = await newUser();
    const rotated = await api('POST', '/api/auth/refresh', { body: { refresh_token: user.refreshToken } });
    expect(rotated.status).toBe(200);
    await acceptedEverywhere(rotated.body.access_token);
    const reused = await api('POST', '/api/auth/refresh', { body: { refresh_token: user.refreshToken } });
    expect(reused.status).toBe(401);
    const revokedAt = Date.now();
    const late = await Promise.all(
      [user.token, rotated.body.access_token as string].map((token) =>
        acceptedOneSecondLater(token, revokedAt),
      ),
    );
    expect(late).toEqual([[], []]);
  }, 60_000);

  it("keeps refusing after the gateway's Redis is flushed, and while Redis is down or restarted empty", async () => {
    expect(await redisCommand(redisPort, 'FLUSHDB')).toBe('+OK');
    expect(await answers(loggedOut.token)).toEqual(everywhere(401));
    expect(await refusing(live.token)).toEqual([]);

    await redis!.kill();
    await sleep(300);
    const second = targets.filter((t) => t.base === gateway2Url);
    for (const t of second) {
      expect({ target: t.name, status: (await call(t, loggedOut.token)).status }).toEqual({
        target: t.name,
        status: 401,
      });
      expect((await call(t, live.token)).status).not.toBe(401);
    }
    await redis!.start();
    expect(await answers(loggedOut.token)).toEqual(everywhere(401));
  }, 60_000);

  it('reloads the revocations from auth when a verifier restarts', async () => {
    await stop(posts2, 'SIGKILL');
    await startPosts2();
    const replica = targets.find((t) => t.base === posts2Url)!;
    // Ready before its first load completes at worst by a moment: then signed-in calls get a 503.
    const first = await until(
      'posts replica answers signed-in calls',
      async () => {
        const res = await call(replica, loggedOut.token);
        return res.status === 503 ? undefined : res;
      },
      5000,
    );
    expect(first.status).toBe(401);
    expect((await call(replica, live.token)).status).toBe(400);
  }, 60_000);

  it('keeps the last known set while auth is unreachable, and catches up once it is back', async () => {
    const replica = targets.find((t) => t.base === posts2Url)!;
    const viaSecond = targets.filter((t) => t.base === gateway2Url || t.base === posts2Url);
    await proxy.cut();
    await sleep(1500);
    for (const t of viaSecond) {
      expect({ target: t.name, status: (await call(t, loggedOut.token)).status }).toEqual({
        target: t.name,
        status: 401,
      });
    }
    expect((await call(replica, live.token)).status).toBe(400);

    // Revoked while the pair cannot hear of it: they learn it once auth is reachable again.
    const meanwhile = await newUser();
    expect((await api('POST', '/api/auth/logout', { token: meanwhile.token })).status).toBe(204);
    await proxy.open();
    await until(
      'the pair refuses the session revoked during the outage',
      async () => {
        for (const t of viaSecond) if ((await call(t, meanwhile.token)).status !== 401) return undefined;
        return true;
      },
      15_000,
      100,
    );
  }, 60_000);

  it('answers signed-in calls with 503 and anonymous ones normally when it starts while auth is unreachable', async () => {
    await proxy.cut();
    await stop(posts2);
    await startPosts2();
    const replica = targets.find((t) => t.base === posts2Url)!;
    const signedIn = await call(replica, live.token);
    expect(signedIn.status).toBe(503);
    expect(signedIn.body).toMatchObject({ code: 'UNAVAILABLE' });
    expect((await apiAt(posts2Url(), 'GET', `/api/posts/${postId}`)).status).toBe(200);

    await proxy.open();
    await until(
      'the replica loads the revocations',
      async () => ((await call(replica, live.token)).status === 400 ? true : undefined),
      15_000,
      100,
    );
    expect((await call(replica, loggedOut.token)).status).toBe(401);
  }, 60_000);
});
