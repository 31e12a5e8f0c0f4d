import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { redisPing } from '../src/infra/containers';
import { startForwarder, startScratchRedis } from '../src/infra/scratch';

/** Connects, sends `text`, resolves with what comes back before the server closes, or the error code. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    socket.on('connect', () => socket.write(text));
    socket.on('data', (d) => (got += d));
    socket.on('close', () => resolve(got));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

/** A server that answers every connection with `name:` and what it read, then closes. */
async function echoServer(name: string): Promise<net.Server> {
  const server = net.createServer((s) => s.once('data', (d) => s.end(`${name}:${d}`)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

describe('startForwarder', () => {
  const servers: net.Server[] = [];
  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
  });

  it('keeps one port while its target moves, and refuses connections while closed', async () => {
    const [a, b] = [await echoServer('a'), await echoServer('b')];
    servers.push(a, b);
    const fwd = await startForwarder();
    expect(await exchange(fwd.port, 'x')).toBe(''); // no target yet: closed at once
    await fwd.open('127.0.0.1', portOf(a));
    expect(await exchange(fwd.port, 'hello')).toBe('a:hello');
    await fwd.close();
    expect(await exchange(fwd.port, 'x')).toBe('ECONNREFUSED');
    await fwd.open('127.0.0.1', portOf(b));
    expect(await exchange(fwd.port, 'again')).toBe('b:again');
    await fwd.close();
  });
});

describe('startScratchRedis', () => {
  // A redis-server here, or a Redis container in a container run (MPB_INFRA_MODE=containers).
  const dir = mkdtempSync(path.join(tmpdir(), 'mpb-scratch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers on one port, refuses while killed, and comes back empty on the same port', async () => {
    const redis = await startScratchRedis({ dir });
    try {
      const set = await exchange(redis.port, '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*1\r\n$4\r\nQUIT\r\n');
      expect(set).toBe('+OK\r\n+OK\r\n');
      await redis.kill();
      expect(await exchange(redis.port, '*1\r\n$4\r\nPING\r\n')).toBe('ECONNREFUSED');
      await redis.start();
      await redisPing('127.0.0.1', redis.port);
      const get = await exchange(redis.port, '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nQUIT\r\n');
      expect(get).toBe('$-1\r\n+OK\r\n');
    } finally {
      await redis.close();
    }
  }, 120_000);
});
