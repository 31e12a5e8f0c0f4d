#!/usr/bin/env node
// Hot-path benchmark for metrics: RecordView and GetCounts over gRPC and like/unlike over HTTP,
// straight on the metrics service, with a fixed number of concurrent callers for a bounded time,
// beside a bare express handler doing one Redis INCR (in its own thread) measured in the same run:
// the cost of Express + one Redis round trip on this machine, with no rules around it.
//
//   pnpm --filter @mpb/metrics build && node bench/metrics-views.mjs    # starts its own metrics
//   node bench/metrics-views.mjs --base http://127.0.0.1:8080 --grpc 127.0.0.1:50055 \
//     --token "$ACCESS_TOKEN" --post-ids 11,12,13,...    # a running platform (e.g. through the gateway)
//
// Without --base it starts `node services/metrics/dist/src/main.js` (role all, so the consumer folds
// what the run produces) on free ports, with a bench topic, the mpb_metrics_bench database, Redis
// database 14 and a key prefix of its own; a posts stand-in (gRPC) and a JWKS endpoint for a key made
// here stand in for posts and auth. Options: --duration seconds per scenario (10), --concurrency (50),
// --posts (200), --json. With --base, likes need --token and --post-ids (at least --concurrency
// existing posts); without them that scenario is skipped.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomInt, randomUUID, sign } from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVICE = path.join(ROOT, 'services/metrics');
const requireFromService = createRequire(path.join(SERVICE, 'package.json'));
const grpc = requireFromService('@grpc/grpc-js');
const { Kafka, logLevel } = requireFromService('kafkajs');
const pg = requireFromService('pg');
const { Redis } = requireFromService('ioredis');
const { loadAuthProto, loadMetricsProto, loadPostsProto } = requireFromService('@mpb/contracts');

function options(argv) {
  const { values } = parseArgs({
    args: argv.slice(2),
    options: {
      duration: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '50' },
      posts: { type: 'string', default: '200' },
      base: { type: 'string' },
      grpc: { type: 'string' },
      token: { type: 'string' },
      'post-ids': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: node bench/metrics-views.mjs [--duration S] [--concurrency N] [--posts N] [--json] [--base URL --grpc HOST:PORT [--token T --post-ids a,b,...]]',
    );
    process.exit(0);
  }
  const o = {
    duration: Number(values.duration),
    concurrency: Number(values.concurrency),
    posts: Number(values.posts),
    json: values.json,
    base: values.base?.replace(/\/+$/, ''),
    grpc: values.grpc,
    token: values.token,
    postIds: values['post-ids']?.split(',').map(Number),
  };
  for (const key of ['duration', 'concurrency', 'posts']) {
    if (!Number.isInteger(o[key]) || o[key] < 1) throw new Error(`--${key} must be a positive integer`);
  }
  if ((o.base === undefined) !== (o.grpc === undefined)) throw new Error('--base and --grpc go together');
  return o;
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    memory_gib: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Auth's part: an EC key made here, its JWKS served on a free port, ES256 access tokens. */
async function startAuthStandIn() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `bench-${randomBytes(4).toString('hex')}`;
  const jwks = JSON.stringify({
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }],
  });
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(jwks);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  // auth's revocation feed, with nothing revoked: the service follows it as it follows auth's.
  const feed = new grpc.Server();
  feed.addService(loadAuthProto().blog.auth.v1.SessionRevocationService.service, {
    ListRevokedSessions: (call, cb) =>
      cb(null, { sessions: [], next_cursor: '0', has_more: false, reset: call.request.cursor === '' }),
  });
  const feedPort = await new Promise((resolve, reject) =>
    feed.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
  const token = (userId) => {
    const now = Math.floor(Date.now() / 1000);
    const head = `${b64url({ alg: 'ES256', typ: 'JWT', kid })}.${b64url({
      sub: String(userId),
      sid: randomUUID(),
      typ: 'access',
      iss: 'mpb-auth',
      aud: 'mpb-api',
      iat: now,
      exp: now + 3600,
    })}`;
    return `${head}.${sign('sha256', Buffer.from(head), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    grpc: `127.0.0.1:${feedPort}`,
    token,
    stop: () => {
      server.close();
      feed.forceShutdown();
    },
  };
}

/** Posts' part: a gRPC PostService that knows every post. */
async function startPostsStandIn() {
  const server = new grpc.Server();
  server.addService(loadPostsProto().blog.posts.v1.PostService.service, {
    GetPost: (call, cb) => {
      const now = new Date().toISOString();
      cb(null, {
        id: call.request.id,
        user_id: 1,
        title: 't',
        description: 'd',
        tag: '',
        deleted: false,
        created_at: now,
        updated_at: now,
      });
    },
    GetPosts: (_call, cb) => cb(null, { posts: [] }),
  });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

async function freePort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The metrics service under test, as a child process. */
async function startMetrics(env) {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  // BENCH_NODE_ARGS adds Node flags to the service, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(SERVICE, 'dist/src/main.js')], {
    cwd: SERVICE,
    env: {
      PATH: process.env.PATH,
      LOG_LEVEL: 'warn',
      HTTP_PORT: String(httpPort),
      GRPC_PORT: String(grpcPort),
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const base = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('metrics did not become ready');
    await sleep(200);
  }
  return {
    base,
    grpc: `127.0.0.1:${grpcPort}`,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The ceiling: express answering POST /incr with one Redis INCR, in its own thread. */
function startCeiling(redisUrl, key) {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const express = require(workerData.express);
    const { Redis } = require(workerData.ioredis);
    const redis = new Redis(workerData.redisUrl);
    const app = express();
    app.post('/incr', async (_req, res) => res.json({ n: await redis.incr(workerData.key) }));
    const server = app.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
    server.keepAliveTimeout = 65000;
    parentPort.on('message', async () => {
      server.closeAllConnections();
      server.close();
      await redis.del(workerData.key);
      redis.disconnect();
      process.exit(0);
    });
  `;
  const worker = new Worker(code, {
    eval: true,
    workerData: {
      express: requireFromService.resolve('express'),
      ioredis: requireFromService.resolve('ioredis'),
      redisUrl,
      key,
    },
  });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (port) =>
      resolve({
        base: `http://127.0.0.1:${port}`,
        stop: () =>
          new Promise((done) => {
            worker.once('exit', done);
            worker.postMessage('stop');
          }),
      }),
    );
  });
}

/** Leaves nothing behind of a self-contained run: rows, Redis keys and topics of its own. */
async function cleanUp({ databaseUrl, redisUrl, prefix, topics, posts }) {
  const ids = posts() ?? [];
  const db = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  await db.query('delete from post_likes where post_id = any($1::bigint[])', [ids]);
  await db.query('delete from post_counters where post_id = any($1::bigint[])', [ids]);
  await db.query('delete from applied_offsets where topic = any($1::text[])', [topics]);
  await db.end();
  const redis = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
  const admin = new Kafka({
    clientId: 'metrics-bench-cleanup',
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: topics.flatMap((t) => [t, `${t}.dlt`]) }).catch(() => undefined);
  await admin.disconnect();
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * `concurrency` lanes, each calling `call(lane, i)` back to back for `seconds`, after a short
 * unmeasured warm-up. `call` resolves with true (success), false (an answer that is not a success)
 * or throws (an error: no answer).
 */
async function load({ name, seconds, concurrency, call }) {
  const latencies = [];
  let errors = 0;
  let failures = 0;
  const counters = Array.from({ length: concurrency }, () => 0);
  const run = async (until, measure) =>
    Promise.all(
      counters.map(async (_, lane) => {
        while (Date.now() < until) {
          const t0 = process.hrtime.bigint();
          let ok;
          try {
            ok = await call(lane, counters[lane]++);
          } catch {
            if (measure) errors += 1;
            continue;
          }
          if (!measure) continue;
          if (ok) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          else failures += 1;
        }
      }),
    );
  await run(Date.now() + Math.min(1000, seconds * 100), false);
  const started = process.hrtime.bigint();
  await run(Date.now() + seconds * 1000, true);
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    name,
    requests: latencies.length + errors + failures,
    rps: Math.round(latencies.length / elapsed),
    p50_ms: Number(percentile(latencies, 50).toFixed(2)),
    p99_ms: Number(percentile(latencies, 99).toFixed(2)),
    errors,
    failures,
  };
}

function httpCaller(base, concurrency) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const target = new URL(base);
  const call = (method, path, token) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path,
          method,
          agent,
          headers: { 'content-length': '0', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => resolve(res.statusCode));
          res.on('error', reject);
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  return { call, close: () => agent.destroy() };
}

function grpcCaller(address) {
  const { MetricsService } = loadMetricsProto().blog.metrics.v1;
  const client = new MetricsService(address, grpc.credentials.createInsecure());
  const unary = (method, request) =>
    new Promise((resolve, reject) =>
      client[method](request, { deadline: Date.now() + 10_000 }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  return { unary, close: () => client.close() };
}

function printTable(rows) {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'failures', 'requests'];
  const lines = rows.map((r) =>
    [r.name, r.rps, r.p50_ms, r.p99_ms, r.errors, r.failures, r.requests].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
}

async function main() {
  const o = options(process.argv);
  const m = machine();
  console.log(`machine: ${m.cpu} x${m.cpus}, ${m.memory_gib} GiB, node ${m.node}, ${m.platform}`);
  const id = randomBytes(4).toString('hex');
  const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  redisUrl.pathname = '/14';
  const stops = [];
  try {
    let base = o.base;
    let grpcAddress = o.grpc;
    let tokenOf = o.token ? () => o.token : undefined;
    let likePosts = o.postIds;
    if (!base) {
      const auth = await startAuthStandIn();
      stops.push(() => auth.stop());
      const posts = await startPostsStandIn();
      stops.push(() => posts.stop());
      const databaseUrl = `${process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432'}/mpb_metrics_bench`;
      const prefix = `metrics-bench-${id}:`;
      const topic = `bench.metrics.${id}`;
      const postsTopic = `bench.posts.${id}`;
      const metrics = await startMetrics({
        NODE_ENV: 'development',
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl.toString(),
        KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
        METRICS_REDIS_PREFIX: prefix,
        METRICS_TOPIC: topic,
        POSTS_TOPIC: postsTopic,
        METRICS_CONSUMER_GROUP: `metrics-bench-${id}`,
        POSTS_CONSUMER_GROUP: `metrics-bench-deletions-${id}`,
        AUTH_URL: auth.url,
        AUTH_GRPC_ADDR: auth.grpc,
        POSTS_GRPC_ADDR: posts.address,
      });
      stops.unshift(async () => console.log(`metrics exited with ${await metrics.stop()}`));
      stops.push(() =>
        cleanUp({
          databaseUrl,
          redisUrl: redisUrl.toString(),
          prefix,
          topics: [topic, postsTopic],
          posts: () => likePosts,
        }),
      );
      base = metrics.base;
      grpcAddress = metrics.grpc;
      const tokens = Array.from({ length: o.concurrency }, (_, lane) =>
        auth.token(randomInt(1e12, 2e12) + lane),
      );
      tokenOf = (lane) => tokens[lane];
      const first = randomInt(1e12, 2e12);
      likePosts = Array.from({ length: Math.max(o.posts, o.concurrency) }, (_, i) => first + i);
      console.log(`started metrics (${base}, gRPC ${grpcAddress}) with stand-ins for auth and posts`);
    }
    const viewPosts = Array.from({ length: o.posts }, (_, i) => likePosts?.[i] ?? randomInt(1e12, 2e12));
    console.log(`${o.duration} s per scenario, ${o.concurrency} concurrent callers, ${o.posts} posts`);

    const ceiling = await startCeiling(redisUrl.toString(), `metrics-bench-${id}:incr`);
    stops.unshift(() => ceiling.stop());
    const ceilingHttp = httpCaller(ceiling.base, o.concurrency);
    const metricsHttp = httpCaller(base, o.concurrency);
    const client = grpcCaller(grpcAddress);
    stops.unshift(() => {
      ceilingHttp.close();
      metricsHttp.close();
      client.close();
    });

    const results = [];
    const run = async (name, call) => {
      const r = await load({ name, seconds: o.duration, concurrency: o.concurrency, call });
      results.push(r);
      console.log(
        `  ${name}: ${r.rps} req/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, errors ${r.errors}, failures ${r.failures}`,
      );
    };

    await run(
      'ceiling: express + Redis INCR (HTTP)',
      async () => (await ceilingHttp.call('POST', '/incr')) === 200,
    );
    await run('RecordView (gRPC)', async (lane, i) => {
      await client.unary('RecordView', {
        post_id: viewPosts[(lane + i * o.concurrency) % viewPosts.length],
        viewer_id: 0,
      });
      return true;
    });
    await run('GetCounts of 20 posts (gRPC)', async (lane, i) => {
      const start = (lane + i) % Math.max(1, viewPosts.length - 20);
      await client.unary('GetCounts', { post_ids: viewPosts.slice(start, start + 20), viewer_id: 7 });
      return true;
    });
    if (tokenOf && likePosts && likePosts.length >= o.concurrency) {
      // Each caller owns its posts and alternates like and unlike on them, so every answer is a 200.
      await run('like / unlike (HTTP, alternating)', async (lane, i) => {
        const owned = likePosts.filter((_, k) => k % o.concurrency === lane);
        const post = owned[Math.floor(i / 2) % owned.length];
        const status =
          i % 2 === 0
            ? await metricsHttp.call('POST', `/api/posts/${post}/like`, tokenOf(lane))
            : await metricsHttp.call('DELETE', `/api/posts/${post}/like`, tokenOf(lane));
        return status === 200;
      });
    } else {
      console.log('  like / unlike: skipped (needs --token and --post-ids with --base)');
    }

    console.log('');
    printTable(results);
    if (o.json) {
      console.log(
        JSON.stringify({ machine: m, duration_s: o.duration, concurrency: o.concurrency, results }),
      );
    }
  } finally {
    for (const stop of stops) await stop();
  }
}

main().catch((err) => {
  console.error(`benchmark failed: ${err.message}`);
  process.exit(1);
});
