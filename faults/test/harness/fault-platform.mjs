// The fault suite's own platform: a second Kafka broker, a dedicated Redis, a fault proxy in front of
// the run's PostgreSQL (PG_URL; databases `*_faults`), and every service on free ports. Nothing here is
// shared with other tests, so stopping a piece of it disturbs nobody else. A small HTTP control server
// on loopback lets the test files (which run in jest's sandbox) break and repair it. In a container run
// (MPB_INFRA_MODE=containers) the broker and Redis are containers behind fixed local ports
// (@mpb/test-kit's scratch servers); otherwise the broker is kafka-node.sh's and Redis a redis-server.
import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { inContainerRun, startScratchKafka, startScratchRedis } from '@mpb/test-kit/dist/infra/scratch.js';
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
/** The run's PostgreSQL server, without a database (as npm test exports it). */
const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
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

/** Drops and creates the suite's databases on the run's server: every run starts empty. */
async function recreateDatabases(names) {
  const admin = new URL(PG_URL);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query('SET client_min_messages = warning');
    for (const db of names) {
      if (!/^[a-z0-9_]+$/.test(db)) throw new Error(`unsupported database name: ${db}`);
      await client.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
      await client.query(`CREATE DATABASE "${db}"`);
    }
  } finally {
    await client.end();
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

  const state = {
    redis: undefined,
    kafka: undefined,
    platform: undefined,
    proxy: undefined,
    control: undefined,
  };
  const containers = inContainerRun();
  const controllerPort = await freePort();
  let kafkaPort = await freePort();

  // ------------------------------------------------------------ Kafka
  const kafka = {
    up: true,
    start: async () => {
      if (containers && state.kafka) await state.kafka.start();
      else if (containers) {
        state.kafka = await startScratchKafka();
        kafkaPort = state.kafka.port;
      } else {
        await run('bash', [KAFKA_NODE, 'start', String(kafkaPort), String(controllerPort), KAFKA_DIR], {
          timeout: 120000,
        });
      }
      kafka.up = true;
    },
    stop: async () => {
      kafka.up = false;
      if (containers) await state.kafka?.stop();
      else await run('bash', [KAFKA_NODE, 'stop', KAFKA_DIR], { timeout: 60000 });
    },
  };

  // ------------------------------------------------------------ Redis
  const redis = {
    up: false,
    start: async () => {
      if (state.redis) await state.redis.start();
      else state.redis = await startScratchRedis({ dir: FAULTS_DIR, redisServer: REDIS_SERVER });
      redis.up = true;
      const pid = state.redis.pid?.();
      if (pid) {
        pids.push({ pid, match: 'redis-server' });
        recordPids();
      }
    },
    stop: async () => {
      redis.up = false;
      await state.redis?.kill();
    },
    flush: () => redisCommand(state.redis.port, 'FLUSHALL'),
  };

  const stopAll = async () => {
    await state.control?.close();
    await state.platform?.stop();
    await state.proxy?.close();
    await state.redis?.close();
    if (containers) await state.kafka?.close();
    else await run('bash', [KAFKA_NODE, 'stop', KAFKA_DIR], { timeout: 60000 }).catch(() => undefined);
  };
  // Backstop for a run that ends without the teardown (a crash, a forced exit). Containers go with the
  // run that started them (packages/test-kit/src/infra/cli.ts).
  const onExit = () => {
    for (const c of state.platform?.children ?? []) c.proc.kill('SIGKILL');
    try {
      const redisPid = state.redis?.pid?.();
      if (redisPid) process.kill(redisPid, 'SIGKILL');
    } catch {
      // already gone
    }
    try {
      execFileSync('bash', [KAFKA_NODE, 'kill', KAFKA_DIR], { stdio: 'ignore' });
    } catch {
      // already stopped
    }
  };
  process.once('exit', onExit);

  try {
    await Promise.all([kafka.start(), redis.start()]);
    const pgServer = new URL(PG_URL);
    state.proxy = await startPgProxy({
      targetHost: pgServer.hostname,
      targetPort: Number(pgServer.port || 5432),
    });
    await recreateDatabases(
      presentServices()
        .filter((x) => x.database)
        .map((x) => `${x.database}${DB_SUFFIX}`),
    );
    const throughProxy = new URL(PG_URL);
    throughProxy.host = `127.0.0.1:${state.proxy.port}`;
    const infra = {
      ...process.env,
      KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
      REDIS_URL: `redis://127.0.0.1:${state.redis.port}/0`,
      PG_URL: throughProxy.toString().replace(/\/$/, ''),
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
        if (!redis.up) {
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
        FAULTS_PG_URL: PG_URL,
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
