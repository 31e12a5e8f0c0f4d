import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { laterPort } from '@mpb/test-kit';
import { apiAt, newUser, servicePorts, serviceUrl, uniq, type TestUser } from './client';

/**
 * The outside audit's gateway findings, re-run against a gateway of this test's own (the built
 * main.js, real services behind it) so its limits and the flood do not touch the shared one:
 *
 * 1. the login rate limit was side-stepped by spelling the path differently (`/api/auth//login`,
 *    `/api/auth/\login`): every spelling is now refused or is the one path the limit counts;
 * 2. a few hundred connections trickling request bodies took every upstream connection, and
 *    readers got an empty reply after 11 s: readers are now answered at once, and every slow
 *    client gets a JSON answer in bounded time.
 */

const RATE_LIMIT = 5;
/**
 * The flood comes from another loopback address than the reader (Linux routes all of 127/8 to
 * lo): per-client limits must keep one client's flood from costing other clients anything.
 */
const ATTACKER = '127.0.0.2';

/** Ports for the servers a test starts: below the ephemeral range (see @mpb/test-kit laterPort). */
const freePort = laterPort;

interface Reply {
  status: number;
  body: string;
  ms: number;
}

/**
 * Writes a request byte for byte (no client would send these targets as they are), then `body`
 * pieces `gapMs` apart until answered. Resolves with the answer once whole; rejects on a connection
 * closed without one (the "empty reply" of the finding).
 */
function raw(
  base: string,
  head: string[],
  body: string[] = [],
  gapMs = 0,
  localAddress?: string,
): Promise<Reply> {
  const url = new URL(base);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: Number(url.port), host: url.hostname, localAddress });
    let text = '';
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (closed: boolean) => {
      if (done) return;
      const m = /^HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
      const length = m ? /content-length: *(\d+)/i.exec(m[2]!) : null;
      if (m && (closed || (length && Buffer.byteLength(m[3]!) >= Number(length[1])))) {
        done = true;
        clearTimeout(timer);
        socket.destroy();
        resolve({ status: Number(m[1]), body: m[3]!, ms: Date.now() - started });
      } else if (closed) {
        done = true;
        clearTimeout(timer);
        reject(new Error(`connection closed without an answer after ${Date.now() - started} ms`));
      }
    };
    socket.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      settle(false);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => settle(true));
    socket.write(`${head.join('\r\n')}\r\n\r\n`);
    const pieces = [...body];
    const next = () => {
      if (done || pieces.length === 0 || !socket.writable) return;
      socket.write(pieces.shift()!);
      timer = setTimeout(next, gapMs);
    };
    next();
  });
}

describe('gateway hardening, on a gateway of its own in front of the real services', () => {
  let gateway: ChildProcess | undefined;
  let base: string;
  let host: string;
  let reader: TestUser;
  let postId: number;
  const logs: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    host = `127.0.0.1:${port}`;
    const main = path.resolve(__dirname, '../../services/gateway/dist/src/main.js');
    gateway = spawn(process.execPath, [main], {
      cwd: path.dirname(main),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        LOG_LEVEL: 'error',
        HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        METRICS_PORT: String(await freePort()),
        REDIS_URL: process.env.E2E_REDIS_URL ?? 'redis://127.0.0.1:6379/2',
        AUTH_URL: serviceUrl('auth'),
        AUTH_GRPC_ADDR: `127.0.0.1:${servicePorts().auth?.grpc}`,
        POSTS_URL: serviceUrl('posts'),
        COMMENTS_URL: serviceUrl('comments'),
        METRICS_URL: serviceUrl('metrics'),
        ATTACHMENTS_URL: serviceUrl('attachments'),
        RATE_LIMIT_AUTH_MAX: String(RATE_LIMIT),
        RATE_LIMIT_AUTH_WINDOW_SECONDS: '60',
        RATE_LIMIT_KEY_PREFIX: `${uniq('e2e-hardening-')}:`,
        // Everything else as in production: UPSTREAM_MAX_SOCKETS 256, body and head timeouts.
      },
    });
    for (const stream of [gateway.stdout!, gateway.stderr!])
      stream.on('data', (c: Buffer) => logs.push(String(c)));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (gateway.exitCode !== null) throw new Error(`gateway exited: ${logs.join('')}`);
      try {
        if ((await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1000) })).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`gateway not ready: ${logs.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    reader = await newUser();
    const created = await apiAt(base, 'POST', '/api/posts', {
      token: reader.token,
      body: { title: 'Hardening', description: 'A post read during the flood.' },
    });
    expect(created.status).toBe(201);
    postId = created.body.id;
  });

  afterAll(async () => {
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((resolve) => gateway!.once('exit', resolve));
      gateway.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (gateway.exitCode === null) gateway.kill('SIGKILL');
    }
  });

  /** Every spelling of a path the audit and its neighbours try. `null`: must be refused (400). */
  const spellings = (p: string): Array<[string, string | null]> => {
    const cut = p.lastIndexOf('/');
    const [head, last] = [p.slice(0, cut), p.slice(cut + 1)];
    return [
      [p, p],
      [p.toUpperCase(), p],
      [`${p}/`, p],
      [`${p}?x=1`, p],
      [`http://${host}${p}`, p],
      [`${head}//${last}`, null],
      [`/${p}`, null],
      [`${head}/\\${last}`, null],
      [`${head}\\${last}`, null],
      [`${head}%2f${last}`, null],
      [`${head}%5C${last}`, null],
      [`${head}/%2e/${last}`, null],
      [`${head}/./${last}`, null],
      [`/api/x/..${p.slice(4)}`, null],
      [`/api/x/%2e%2e${p.slice(4)}`, null],
      [`${p};a=b`, null],
      [`${p}%00`, null],
      [`${p}%20`, null],
      [p.replace('/api/', '/%61pi/'), null],
      [`${p}${'/a'.repeat(1100)}`, null],
    ];
  };

  const json = (headers: string[], body: string) => [
    ...headers,
    `host: ${host}`,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
  ];

  it.each(['/api/auth/login', '/api/auth/register'])(
    '%s: once limited, no spelling of the path reaches auth again',
    async (p) => {
      const body = JSON.stringify({ username: uniq('nobody_'), password: 'wrong-password' });
      for (let i = 0; i < RATE_LIMIT; i += 1) {
        const res = await raw(base, json([`POST ${p} HTTP/1.1`], body), [body]);
        expect([400, 401]).toContain(res.status); // auth answered: a failed sign-in or sign-up
      }
      for (const [target, canonical] of spellings(p)) {
        const res = await raw(base, json([`POST ${target} HTTP/1.1`], body), [body]);
        const where = JSON.stringify(target).slice(0, 60);
        expect({ where, status: res.status }).toEqual({ where, status: canonical ? 429 : 400 });
        expect(JSON.parse(res.body)).toMatchObject({ error: expect.any(String) });
      }
    },
  );

  it('a route that checks tokens checks them under every spelling', async () => {
    for (const [target, canonical] of spellings('/api/auth/me')) {
      const res = await raw(base, [
        `GET ${target} HTTP/1.1`,
        `host: ${host}`,
        'authorization: Bearer not-a-jwt',
        'connection: close',
      ]);
      const where = JSON.stringify(target).slice(0, 60);
      expect({ where, status: res.status }).toEqual({ where, status: canonical ? 401 : 400 });
    }
  });

  it('a body limit holds under every spelling (64 KiB on comments)', async () => {
    const body = JSON.stringify({ text: 'x'.repeat(100 * 1024) });
    for (const [target, canonical] of spellings(`/api/posts/${postId}/comments`)) {
      const res = await raw(
        base,
        json([`POST ${target} HTTP/1.1`, `authorization: Bearer ${reader.token}`], body),
        [body],
      );
      const where = JSON.stringify(target).slice(0, 60);
      expect({ where, status: res.status }).toEqual({ where, status: canonical ? 413 : 400 });
    }
  });

  it('a post with a 20,000-character CJK description still fits the posts row', async () => {
    const res = await apiAt(base, 'POST', '/api/posts', {
      token: reader.token,
      body: { title: 'CJK', description: '漢'.repeat(20_000) },
    });
    expect(res.status).not.toBe(413);
  });

  it('300 connections trickling bodies for up to 20 s: a reader is answered within a second once the connections are in, every trickler gets JSON', async () => {
    const started = Date.now();
    // One byte of a chunked body every 2 s: never idle long enough for the idle timeout.
    const pieces = Array.from({ length: 10 }, () => '1\r\n{\r\n');
    const attack = Array.from({ length: 300 }, () =>
      raw(
        base,
        [
          'POST /api/posts HTTP/1.1',
          `host: ${host}`,
          'content-type: application/json',
          'transfer-encoding: chunked',
        ],
        pieces,
        2000,
        ATTACKER,
      ).catch((err: Error) => ({ status: 0, body: err.message, ms: Date.now() - started })),
    );
    // The first second is the connection burst itself (300 handshakes and heads on two shared
    // cores): a reader then must still be answered, promptly. After it, the flood is 300 bodies
    // trickling, the state that starved readers for 11 s: a read must take under a second.
    const burst: number[] = [];
    const reads: number[] = [];
    while (Date.now() - started < 16_000) {
      const t = Date.now();
      const inBurst = t - started < 1000;
      const res = await apiAt(base, 'GET', `/api/posts/${postId}`);
      expect(res.status).toBe(200);
      (inBurst ? burst : reads).push(Date.now() - t);
      await new Promise((r) => setTimeout(r, 500));
    }
    const answers = await Promise.all(attack);
    const byStatus: Record<number, number> = {};
    for (const a of answers) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
    process.stdout.write(
      `slow-body flood: answers ${JSON.stringify(byStatus)}, slowest trickler answer ${Math.max(
        ...answers.map((a) => a.ms),
      )} ms; reads during the burst ${burst.join(' ')} ms, after it (${reads.length}) max ${Math.max(
        ...reads,
      )} ms: ${reads.join(' ')}\n`,
    );
    expect(Math.max(...burst)).toBeLessThan(3000);
    expect(Math.max(...reads)).toBeLessThan(1000);
    // No empty replies: every trickler got a JSON answer (429 past the per-client caps, 408 when
    // its body ran out of time), all within the attack's 20 s.
    expect(byStatus[0]).toBeUndefined();
    for (const a of answers) expect(JSON.parse(a.body)).toMatchObject({ error: expect.any(String) });
    expect(Object.keys(byStatus).sort()).toEqual(['408', '429']);
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(20_000);
  }, 40_000);

  it('a stalled body gets a 408 JSON within the idle timeout (5 s)', async () => {
    const res = await raw(
      base,
      [
        'POST /api/comments HTTP/1.1',
        `host: ${host}`,
        'content-type: application/json',
        'content-length: 100',
      ],
      ['{"text":'],
    );
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'request body timed out' });
    expect(res.ms).toBeLessThan(7000);
  });
});
