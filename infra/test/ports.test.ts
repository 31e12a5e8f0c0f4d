import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Ports from infra/local/platform.mjs's freePort, asked in a plain Node process (it is an ES module). */
function freePorts(count: number): number[] {
  const platform = path.resolve(__dirname, '../local/platform.mjs');
  const script =
    `const { freePort } = await import(${JSON.stringify(platform)});` +
    `const ports = []; for (let i = 0; i < ${count}; i += 1) ports.push(await freePort());` +
    `console.log(JSON.stringify(ports));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as number[];
}

describe('freePort (ports for the servers a local run starts)', () => {
  // A port released by listen(0) lies in the ephemeral range: any outgoing connection on the machine can
  // take it as its source port before the server binds it (a CI run's fault broker once could not start).
  it('hands out distinct ports below the ephemeral range, which outgoing connections never take', () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    const ports = freePorts(40);
    expect(new Set(ports).size).toBe(40);
    expect(ports.filter((p) => p >= low! || p < 1024)).toEqual([]);
  });

  it('hands out a port a server can bind', async () => {
    const [port] = freePorts(1);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
