// The fault suite's own platform: a second Kafka broker, a dedicated Redis, a fault proxy in front of
// the machine's PostgreSQL (databases `*_faults`), and every service on free ports. Nothing here is
// shared with other tests, so stopping a piece of it disturbs nobody else. A small HTTP control server
// on loopback lets the test files (which run in jest's sandbox) break and repair it.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, startPlatform } from '../../../infra/local/platform.mjs';
import { presentServices, REPO_ROOT } from '../../../infra/local/services.mjs';
import { startPgProxy } from './pg-proxy.mjs';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const FAULTS_DIR = path.join(process.env.MPB_LOCAL_DIR ?? path.join(REPO_ROOT, '.local'), 'faults');
const KAFKA_DIR = path.join(FAULTS_DIR, 'kafka');
const KAFKA_NODE = path.join(REPO_ROOT, 'infra/local/kafka-node.sh');
const PIDS_FILE = path.join(FAULTS_DIR, 'pids.json');
const LOG_FILE = path.join(FAULTS_DIR, 'services.log');
const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
const PG_ADMIN = ['-h', '127.0.0.1', '-p', '5432', '-U', 'postgres', '-d', 'postgres', '-qc'];
export const DB_SUFFIX = process.env.FAULTS_DB_SUFFIX || '_faults';

const cmdlineOf = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

/** Kills what a crashed earlier run left behind (only processes whose command line is ours). */
function killLeftovers() {
  if (existsSync(PIDS_FILE)) {
    let recorded = [];
    try {
      recorded = JSON.parse(readFileSync(PIDS_FILE, 'utf8'));
    } catch {
      recorded = [];
    }
    for (const { pid, match } of recorded) {
      if (pid && match && cmdlineOf(pid).includes(match)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }
  try {
    execFileSync('bash', [KAFKA_NODE, 'kill', KAFKA_DIR], { stdio: 'ignore' });
  } catch {
    // no broker left
  }
}

/** One RESP command over a fresh connection; resolves with the first reply line. */
function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(3000, () => socket.destroy(new Error('redis: no answer')));
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk) => {
      reply += chunk;
      const i = reply.indexOf('\r\n');
      if (i >= 0) {
        socket.destroy();
        resolve(reply.slice(0, i));
      }
    });
    socket.on('error', reject);
  });
}

async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms`);
    await sleep(100);
  }
}

export async function startFaultPlatform() {
  const started = Date.now();
  killLeftovers();
  // A fresh broker and fresh databases on every run: applied offsets kept in a database from an earlier
  // broker would make metrics skip the new broker's events as already applied.
  rmSync(FAULTS_DIR, { recursive: true, force: true });
  mkdirSync(FAULTS_DIR, { recursive: true });
  const pids = [];
  const recordPids = () => writeFileSync(PIDS_FILE, JSON.stringify(pids));
  const lines = [];
  const log = (name, line) => {
    lines.push(`${name} | ${line}`);
    if (lines.length > 3000) lines.splice(0, 1000);
    appendFileSync(LOG_FILE, `${new Date().toISOString()} ${name} | ${line}\n`);
  };

  const state = { redis: undefined, platform: undefined, proxy: undefined, control: undefined };
  const [kafkaPort, controllerPort, redisPort] = [await freePort(), await freePort(), await freePort()];

  // ------------------------------------------------------------ Kafka
  const kafka = {
    up: true,
    start: async () => {
      await run('bash', [KAFKA_NODE, 'start', String(kafkaPort), String(controllerPort), KAFKA_DIR], {
        timeout: 120000,
      });
      kafka.up = true;
    },
    stop: async () => {
      kafka.up = false;
      await run('bash', [KAFKA_NODE, 'stop', KAFKA_DIR], { timeout: 60000 });
    },
  };

  // ------------------------------------------------------------ Redis
  const redis = {
    start: async () => {
      const proc = spawn(
        REDIS_SERVER,
        ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'].concat([
          '--dir',
          FAULTS_DIR,
          '--protected-mode',
          'no',
        ]),
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      proc.stderr.on('data', (d) => log('redis', String(d).trim()));
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      state.redis = { proc, exited };
      pids.push({ pid: proc.pid, match: 'redis-server' });
      recordPids();
      await waitFor(async () => (await redisCommand(redisPort, 'PING')) === '+PONG', 10000, 'redis');
    },
    stop: async () => {
      const r = state.redis;
      if (!r || r.proc.exitCode !== null || r.proc.signalCode !== null) return;
      r.proc.kill('SIGKILL');
      await r.exited;
    },
    flush: () => redisCommand(redisPort, 'FLUSHALL'),
  };

  const stopAll = async () => {
    await state.control?.close();
    await state.platform?.stop();
    await state.proxy?.close();
    await redis.stop();
    await run('bash', [KAFKA_NODE, 'stop', KAFKA_DIR], { timeout: 60000 }).catch(() => undefined);
  };
  // Backstop for a run that ends without the teardown (a crash, a forced exit).
  const onExit = () => {
    for (const c of state.platform?.children ?? []) c.proc.kill('SIGKILL');
    state.redis?.proc.kill('SIGKILL');
    try {
      execFileSync('bash', [KAFKA_NODE, 'kill', KAFKA_DIR], { stdio: 'ignore' });
    } catch {
      // already stopped
    }
  };
  process.once('exit', onExit);

  try {
    await Promise.all([kafka.start(), redis.start()]);
    state.proxy = await startPgProxy();
    for (const s of presentServices().filter((x) => x.database)) {
      const db = `${s.database}${DB_SUFFIX}`;
      const quiet = { env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' } };
      execFileSync('psql', [...PG_ADMIN, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`], quiet);
      execFileSync('psql', [...PG_ADMIN, `CREATE DATABASE "${db}"`], quiet);
    }
    const infra = {
      ...process.env,
      KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
      REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
      PG_URL: `postgres://postgres@127.0.0.1:${state.proxy.port}`,
    };
    state.platform = await startPlatform({
      ports: 'free',
      infra,
      dbSuffix: DB_SUFFIX,
      logLevel: 'warn',
      onLog: log,
      readyTimeoutMs: 90000,
      extraEnv: {
        gateway: { RATE_LIMIT_AUTH_MAX: '100000', UPSTREAM_TIMEOUT_MS: '4000' },
        // Every read counts: the virtual users read from one address, and the view totals are
        // checked against the reads answered 200 (verify.ts), which needs one view per read.
        metrics: { VIEW_DEDUP_SECONDS: '0' },
      },
    });
    const recordServicePids = () => {
      for (const c of state.platform.children) {
        if (!pids.some((p) => p.pid === c.proc.pid))
          pids.push({ pid: c.proc.pid, match: path.join(REPO_ROOT, 'services', c.name, 'dist/src/main.js') });
      }
      recordPids();
    };
    recordServicePids();

    // ---------------------------------------------------------- control server
    const platform = state.platform;
    const actions = {
      'POST /kafka/stop': () => kafka.stop(),
      'POST /kafka/start': () => kafka.start(),
      'POST /redis/flush': async () => ({ reply: await redis.flush() }),
      'POST /redis/stop': () => redis.stop(),
      'POST /redis/start': () => redis.start(),
      'POST /pg/cut': () => ({ destroyed: state.proxy.cut() }),
      'POST /pg/restore': () => state.proxy.restore(),
      'POST /service/kill': async (b) => {
        await platform.kill(b.name, b.signal ?? 'SIGKILL');
        const c = platform.children.find((x) => x.name === b.name);
        return { exitCode: c?.proc.exitCode ?? null, signal: c?.proc.signalCode ?? null };
      },
      'POST /service/start': async (b) => {
        await platform.start(b.name, b.env ?? {});
        recordServicePids();
      },
      'POST /service/wait-exit': async (b) => {
        const c = platform.children.find((x) => x.name === b.name);
        const code = await Promise.race([c.exited, sleep(b.timeoutMs ?? 20000).then(() => 'timeout')]);
        return { exitCode: code };
      },
      // After a failed test: whatever it left broken is repaired, so the next file starts whole.
      'POST /heal': async () => {
        const healed = [];
        if (state.proxy.isCut()) {
          state.proxy.restore();
          healed.push('postgres');
        }
        if (!kafka.up) {
          await kafka.start();
          healed.push('kafka');
        }
        const r = state.redis;
        if (!r || r.proc.exitCode !== null || r.proc.signalCode !== null) {
          await redis.start();
          healed.push('redis');
        }
        for (const c of [...platform.children]) {
          if (c.proc.exitCode === null && c.proc.signalCode === null) continue;
          await platform.start(c.name, {});
          healed.push(c.name);
        }
        recordServicePids();
        return { healed };
      },
      'GET /logs': (_b, url) => {
        const name = url.searchParams.get('name');
        const n = Number(url.searchParams.get('n') ?? 80);
        return { lines: lines.filter((l) => !name || l.startsWith(`${name} |`)).slice(-n) };
      },
    };
    const control = http.createServer((req, res) => {
      const url = new URL(req.url, 'http://127.0.0.1');
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', async () => {
        const action = actions[`${req.method} ${url.pathname}`];
        const t0 = Date.now();
        try {
          if (!action) throw new Error(`no action ${req.method} ${url.pathname}`);
          const result = await action(body ? JSON.parse(body) : {}, url);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: true, ms: Date.now() - t0, ...result }));
        } catch (err) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: err.message }));
        }
      });
    });
    control.requestTimeout = 0;
    await new Promise((resolve) => control.listen(0, '127.0.0.1', resolve));
    state.control = {
      close: () =>
        new Promise((resolve) => {
          control.closeAllConnections();
          control.close(() => resolve());
        }),
    };
    return {
      env: {
        FAULTS_CONTROL_URL: `http://127.0.0.1:${control.address().port}`,
        FAULTS_GATEWAY_URL: platform.gatewayUrl,
        FAULTS_SERVICE_PORTS: JSON.stringify(platform.ports),
        FAULTS_KAFKA_BROKERS: infra.KAFKA_BROKERS,
        FAULTS_REDIS_URL: infra.REDIS_URL,
        // Straight to PostgreSQL, past the proxy: what the assertions read.
        FAULTS_PG_URL: 'postgres://postgres@127.0.0.1:5432',
        FAULTS_DB_SUFFIX: DB_SUFFIX,
      },
      startedMs: Date.now() - started,
      stop: async () => {
        await stopAll();
        process.removeListener('exit', onExit);
        rmSync(PIDS_FILE, { force: true });
      },
      logs: lines,
    };
  } catch (err) {
    await stopAll().catch(() => undefined);
    process.removeListener('exit', onExit);
    err.message += `\n${lines.slice(-40).join('\n')}`;
    throw err;
  }
}
