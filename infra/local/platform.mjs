// Starts the platform's services as child processes, waits until each is ready, streams their logs
// with a name prefix, and stops them in reverse order on SIGINT/SIGTERM.
// Used by `npm start` (as a program) and by the end-to-end tests (as a module).
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { presentServices, REPO_ROOT, serviceEnv } from './services.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Ports for servers this run starts, below Linux's ephemeral range (32768-60999 by default): a port
 * the kernel handed out for listen(0) and took back can be taken a moment later as the source port of
 * any outgoing connection on the machine, and the server that wanted it then fails to bind ("port in
 * use by a process this script did not start"). Ports of this range are never used as source ports.
 */
const PORT_RANGE = { from: 20000, to: 32000 };
const handedOut = new Set();

/** A port nothing listens on now, below the ephemeral range, not handed out before by this process. */
export async function freePort() {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (handedOut.has(port)) continue;
    if (await canBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${PORT_RANGE.from} and ${PORT_RANGE.to}`);
}

function canBind(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function waitReady(url, timeoutMs, isAlive) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`exited before it was ready (${url})`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = err.message;
    }
    await sleep(200);
  }
  throw new Error(`not ready after ${timeoutMs} ms at ${url}: ${last}`);
}

/**
 * @param {object} o
 * @param {'fixed'|'free'} o.ports fixed local ports (npm start) or free ones (tests)
 * @param {object} o.infra infrastructure env (KAFKA_BROKERS, S3_*, REDIS_URL, PG_URL)
 * @param {string} [o.dbSuffix]
 * @param {string} [o.topicPrefix] put before every Kafka topic and group name (KAFKA_TOPIC_PREFIX)
 * @param {(name: string, line: string) => void} [o.onLog]
 * @param {Record<string, Record<string,string>>} [o.extraEnv] per service
 * @param {Record<string, string[]>} [o.nodeArgs] Node flags per service (say `--cpu-prof`, which NODE_OPTIONS refuses)
 */
export async function startPlatform(o) {
  const services = presentServices();
  const ports = {};
  for (const s of services) {
    ports[s.name] =
      o.ports === 'free'
        ? {
            http: await freePort(),
            grpc: s.grpc ? await freePort() : undefined,
            metrics: s.metrics ? await freePort() : undefined,
          }
        : { http: s.http, grpc: s.grpc, metrics: s.metrics };
  }
  const children = [];
  const stop = async () => {
    for (const c of [...children].reverse()) {
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) continue;
      c.proc.kill('SIGTERM');
      const exited = await Promise.race([c.exited.then(() => true), sleep(15000).then(() => false)]);
      if (!exited) c.proc.kill('SIGKILL');
    }
  };
  const readyTimeoutMs = o.readyTimeoutMs ?? 60000;
  /** Spawns one service on its ports and waits until it is ready; `extra` adds to its environment. */
  const launch = async (s, extra = {}) => {
    const env = {
      ...process.env,
      ...serviceEnv(s, ports, o.infra, {
        dbSuffix: o.dbSuffix,
        logLevel: o.logLevel,
        topicPrefix: o.topicPrefix,
        extra: { ...o.extraEnv?.[s.name], ...extra },
      }),
    };
    const main = path.join(REPO_ROOT, 'services', s.name, 'dist/src/main.js');
    const proc = spawn(process.execPath, [...(o.nodeArgs?.[s.name] ?? []), main], {
      cwd: path.join(REPO_ROOT, 'services', s.name),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    const child = { name: s.name, proc, exited };
    const at = children.findIndex((c) => c.name === s.name);
    if (at >= 0) children[at] = child;
    else children.push(child);
    for (const stream of [proc.stdout, proc.stderr]) {
      let buf = '';
      stream.on('data', (chunk) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          o.onLog?.(s.name, buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
    const readyPath = s.name === 'gateway' ? '/health' : '/readyz';
    await waitReady(
      `http://127.0.0.1:${ports[s.name].http}${readyPath}`,
      readyTimeoutMs,
      () => proc.exitCode === null,
    );
    return child;
  };
  const byName = (name) => {
    const s = services.find((x) => x.name === name);
    if (!s) throw new Error(`unknown service ${name}`);
    return s;
  };
  /** Sends `signal` to one service and waits until it has exited (SIGKILL after `graceMs`). */
  const kill = async (name, signal = 'SIGKILL', graceMs = 15000) => {
    byName(name);
    const c = children.find((x) => x.name === name);
    if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
    c.proc.kill(signal);
    const exited = await Promise.race([c.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!exited) {
      c.proc.kill('SIGKILL');
      await c.exited;
    }
  };
  try {
    for (const s of services) await launch(s);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    ports,
    children,
    stop,
    kill,
    /** Starts a stopped service again on the same ports (`extra` env for this run only). */
    start: (name, extra) => launch(byName(name), extra),
    restart: async (name, signal = 'SIGTERM', extra) => {
      await kill(name, signal);
      return launch(byName(name), extra);
    },
    gatewayUrl: ports.gateway ? `http://127.0.0.1:${ports.gateway.http}` : undefined,
  };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
async function main() {
  const width = Math.max(...presentServices().map((s) => s.name.length));
  const colors = [36, 35, 33, 32, 34, 31];
  const names = presentServices().map((s) => s.name);
  const onLog = (name, line) => {
    const c = colors[names.indexOf(name) % colors.length];
    process.stdout.write(`\x1b[${c}m${name.padEnd(width)}\x1b[0m | ${line}\n`);
  };
  const started = Date.now();
  let platform;
  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n[platform] ${signal}: stopping services\n`);
    await platform?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  try {
    platform = await startPlatform({
      ports: 'fixed',
      infra: process.env,
      onLog,
      logLevel: process.env.LOG_LEVEL ?? 'info',
    });
  } catch (err) {
    process.stderr.write(`[platform] failed to start: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `\n[platform] ready in ${((Date.now() - started) / 1000).toFixed(1)} s: gateway at ${platform.gatewayUrl}  (Ctrl-C stops everything)\n\n`,
  );
  for (const c of platform.children) {
    c.exited.then((code) => {
      if (!stopping) {
        process.stderr.write(`[platform] ${c.name} exited (${code}); stopping the rest\n`);
        void shutdown('exit');
      }
    });
  }
}

if (isMain) void main();
