#!/usr/bin/env node
// Consumer benchmark for metrics: produces N post.viewed / post.liked / post.unliked events across
// ~1000 posts to a fresh topic, runs the built consumer (`node services/metrics/dist/src/main.js`,
// METRICS_ROLE=consumer) from the start as a child process, measures the events per second folded
// into PostgreSQL (with the applied offsets stored in the same transactions), and checks every total.
//
//   pnpm --filter @mpb/metrics build && node bench/metrics-consumer.mjs
//   node bench/metrics-consumer.mjs --events 50000 --posts 200 --batch 1000
//
// Options: --events (200000), --posts (1000), --users (200), --like-share (0.2), --batch (the
// consumer's METRICS_BATCH_SIZE; its default when absent), --timeout seconds (300), --cpu-prof DIR
// (the consumer writes a V8 CPU profile there when it exits), --json. Environment: PG_URL
// (postgres://postgres@127.0.0.1:5432; the database is mpb_metrics_bench), REDIS_URL
// (redis://127.0.0.1:6379; database 14 is used), KAFKA_BROKERS (127.0.0.1:9092).
import { spawn } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMicros } from './lib/proc.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVICE = path.join(ROOT, 'services/metrics');
const requireFromService = createRequire(path.join(SERVICE, 'package.json'));
const { Kafka, logLevel, Partitioners } = requireFromService('kafkajs');
const pg = requireFromService('pg');
const { Redis } = requireFromService('ioredis');

function options(argv) {
  const { values } = parseArgs({
    args: argv.slice(2),
    options: {
      events: { type: 'string', default: '200000' },
      posts: { type: 'string', default: '1000' },
      users: { type: 'string', default: '200' },
      'like-share': { type: 'string', default: '0.2' },
      batch: { type: 'string' },
      timeout: { type: 'string', default: '300' },
      'cpu-prof': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: node bench/metrics-consumer.mjs [--events N] [--posts N] [--users N] [--like-share F] [--batch N] [--timeout S] [--cpu-prof DIR] [--json]',
    );
    process.exit(0);
  }
  const o = {
    events: Number(values.events),
    posts: Number(values.posts),
    users: Number(values.users),
    likeShare: Number(values['like-share']),
    batch: values.batch === undefined ? undefined : Number(values.batch),
    timeout: Number(values.timeout),
    cpuProf: values['cpu-prof'] === undefined ? undefined : path.resolve(values['cpu-prof']),
    json: values.json,
  };
  if (o.batch !== undefined && !(Number.isInteger(o.batch) && o.batch >= 1))
    throw new Error('--batch must be a positive integer');
  for (const key of ['events', 'posts', 'users', 'timeout']) {
    if (!Number.isInteger(o[key]) || o[key] < 1) throw new Error(`--${key} must be a positive integer`);
  }
  if (!(o.likeShare >= 0 && o.likeShare <= 1)) throw new Error('--like-share must be between 0 and 1');
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

/** The events as the metrics API publishes them, and the totals they must fold to. */
function script(o) {
  const base = randomInt(1e12, 2e12);
  const posts = Array.from({ length: o.posts }, (_, i) => base + i);
  const users = Array.from({ length: o.users }, (_, i) => base + i);
  const views = new Map(posts.map((p) => [p, 0]));
  const likers = new Map(posts.map((p) => [p, new Set()]));
  const epoch = Date.now() * 1000;
  let seq = epoch;
  const messages = [];
  for (let i = 0; i < o.events; i += 1) {
    const postId = posts[randomInt(posts.length)];
    let type;
    let payload;
    if (Math.random() >= o.likeShare) {
      views.set(postId, views.get(postId) + 1);
      type = 'post.viewed';
      payload = { post_id: postId, viewer_id: 0, epoch, views: views.get(postId) };
    } else {
      const userId = users[randomInt(users.length)];
      const set = likers.get(postId);
      const liked = !set.has(userId);
      if (liked) set.add(userId);
      else set.delete(userId);
      seq += 1;
      type = liked ? 'post.liked' : 'post.unliked';
      payload = { post_id: postId, user_id: userId, seq, likes: set.size };
    }
    const envelope = {
      id: randomUUID(),
      type,
      version: 1,
      time: new Date().toISOString(),
      source: 'metrics',
      aggregate_type: 'post',
      aggregate_id: String(postId),
      payload,
      trace: {},
    };
    messages.push({ key: String(postId), value: JSON.stringify(envelope), headers: { 'event-type': type } });
  }
  return { posts, views, likers, messages };
}

async function main() {
  const o = options(process.argv);
  const m = machine();
  console.log(`machine: ${m.cpu} x${m.cpus}, ${m.memory_gib} GiB, node ${m.node}, ${m.platform}`);
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const pgBase = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const databaseUrl = `${pgBase}/mpb_metrics_bench`;
  const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  redisUrl.pathname = '/14';
  const id = randomBytes(4).toString('hex');
  const topic = `bench.metrics.${id}`;
  const prefix = `metrics-bench-${id}:`;

  const kafka = new Kafka({ clientId: `metrics-bench-${id}`, brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [topic, `${topic}.dlt`].map((t) => ({ topic: t, numPartitions: 3, replicationFactor: -1 })),
    waitForLeaders: true,
  });

  const s = script(o);
  const likeEvents = s.messages.filter((x) => x.headers['event-type'] !== 'post.viewed').length;
  console.log(
    `producing ${o.events} events (${o.events - likeEvents} views, ${likeEvents} likes/unlikes) over ${o.posts} posts to ${topic}`,
  );
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const produceStarted = Date.now();
  for (let i = 0; i < s.messages.length; i += 5000) {
    await producer.send({ topic, acks: -1, messages: s.messages.slice(i, i + 5000) });
  }
  await producer.disconnect();
  console.log(`produced in ${((Date.now() - produceStarted) / 1000).toFixed(1)} s`);

  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // BENCH_NODE_ARGS adds Node flags to the consumer; --cpu-prof DIR has it write a CPU profile there.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  if (o.cpuProf) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`);
  const child = spawn(process.execPath, [...nodeArgs, path.join(SERVICE, 'dist/src/main.js')], {
    cwd: SERVICE,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      METRICS_ROLE: 'consumer',
      HTTP_PORT: '0',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl.toString(),
      KAFKA_BROKERS: brokers.join(','),
      METRICS_REDIS_PREFIX: prefix,
      METRICS_TOPIC: topic,
      POSTS_TOPIC: `bench.posts.${id}`,
      METRICS_CONSUMER_GROUP: `metrics-bench-${id}`,
      POSTS_CONSUMER_GROUP: `metrics-bench-deletions-${id}`,
      ...(o.batch ? { METRICS_BATCH_SIZE: String(o.batch) } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exitedEarly = false;
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      exitedEarly = true;
      resolve(code ?? signal);
    }),
  );

  const applied = async () => {
    try {
      const { rows } = await db.query(
        'select coalesce(sum(applied_offset + 1), 0)::bigint as n from applied_offsets where topic = $1',
        [topic],
      );
      return Number(rows[0].n);
    } catch {
      return 0; // the child creates the database and tables on start
    }
  };
  /** The consumer's CPU time so far, in microseconds (NaN where /proc cannot tell). */
  const consumerCpu = () => {
    try {
      return cpuMicros(child.pid);
    } catch {
      return NaN;
    }
  };
  const spawned = Date.now();
  let first = 0;
  let firstCpu = NaN;
  let foldCpu = NaN;
  let firstApplied = 0;
  let done = 0;
  const deadline = spawned + o.timeout * 1000;
  const progress = [];
  while (Date.now() < deadline) {
    if (exitedEarly) throw new Error(`the consumer exited early: ${await exited}`);
    const n = await applied();
    const now = Date.now();
    if (n > 0 && first === 0) {
      first = now;
      firstCpu = consumerCpu();
      firstApplied = n;
    }
    if (first && (progress.length === 0 || now - progress.at(-1).t >= 1000)) progress.push({ t: now, n });
    if (n >= o.events) {
      done = now;
      foldCpu = consumerCpu() - firstCpu;
      break;
    }
    await sleep(50);
  }
  child.kill('SIGTERM');
  const exitCode = await exited;
  if (!done) throw new Error(`the consumer did not fold ${o.events} events within ${o.timeout} s`);

  // Verify: every post's views, likes count and like rows equal what was produced.
  const { rows: counters } = await db.query(
    'select post_id, views, likes from post_counters where post_id = any($1::bigint[])',
    [s.posts],
  );
  const { rows: likeRows } = await db.query(
    'select post_id, user_id from post_likes where post_id = any($1::bigint[]) and liked',
    [s.posts],
  );
  const byPost = new Map(counters.map((r) => [Number(r.post_id), r]));
  const rowsByPost = new Map();
  for (const r of likeRows) {
    const k = Number(r.post_id);
    if (!rowsByPost.has(k)) rowsByPost.set(k, new Set());
    rowsByPost.get(k).add(Number(r.user_id));
  }
  let mismatches = 0;
  for (const p of s.posts) {
    const row = byPost.get(p);
    const want = s.likers.get(p);
    const have = rowsByPost.get(p) ?? new Set();
    const same =
      Number(row?.views ?? 0) === s.views.get(p) &&
      Number(row?.likes ?? 0) === want.size &&
      have.size === want.size &&
      [...want].every((u) => have.has(u));
    if (!same) mismatches += 1;
  }

  // Leave nothing behind but the (empty) bench database.
  await db.query('delete from post_likes where post_id = any($1::bigint[])', [s.posts]);
  await db.query('delete from post_counters where post_id = any($1::bigint[])', [s.posts]);
  await db.query('delete from applied_offsets where topic = $1', [topic]);
  await db.end();
  await admin.deleteTopics({ topics: [topic, `${topic}.dlt`] }).catch(() => undefined);
  await admin.disconnect();
  const redis = new Redis(redisUrl.toString());
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();

  const foldSeconds = (done - first) / 1000;
  const result = {
    events: o.events,
    posts: o.posts,
    batch: o.batch ?? 'default',
    startup_s: Number(((first - spawned) / 1000).toFixed(2)),
    fold_s: Number(foldSeconds.toFixed(2)),
    events_per_s: Math.round(o.events / foldSeconds),
    events_per_s_with_startup: Math.round(o.events / ((done - spawned) / 1000)),
    // CPU the consumer process spent per event folded (less sensitive to other work on the machine
    // than the rate: 1e6 / this is the rate one free core would reach if the consumer were the limit).
    cpu_us_per_event: Number((foldCpu / (o.events - firstApplied)).toFixed(1)),
    totals_exact: mismatches === 0,
    mismatched_posts: mismatches,
    consumer_exit: exitCode,
  };
  console.log(
    `folded ${o.events} events in ${result.fold_s} s after ${result.startup_s} s of start-up: ${result.events_per_s} events/s ` +
      `(${result.events_per_s_with_startup} events/s including start-up); ` +
      `consumer CPU ${result.cpu_us_per_event} µs/event`,
  );
  console.log(
    `totals: ${mismatches === 0 ? 'exact' : `${mismatches} posts differ`}; consumer exit after SIGTERM: ${exitCode}`,
  );
  if (o.json) console.log(JSON.stringify({ machine: m, ...result }));
  if (mismatches > 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(`benchmark failed: ${err.message}`);
  process.exit(1);
});
