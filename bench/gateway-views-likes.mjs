// Views and likes through the gateway, beside the ceiling measured in the same run: a bare chain of
// the same shape (an express gateway with http-proxy-middleware in front of an express handler doing
// one Redis INCR, each in its own process, keep-alive upstream).
//   npm start   (in another terminal), then:  node bench/gateway-views-likes.mjs [--duration 10] [--concurrency 50]
// Options: --rounds N repeats ceiling, views, likes N times and reports the median share of the
// ceiling; --pids gateway=PID,posts=PID,metrics=PID also prints the CPU each process spent per
// request in each scenario (from /proc, Linux); --lag-group / --lag-topic name the consumer group
// whose lag is sampled during and after the view run (metrics-counters on blog.metrics.v1), and
// KAFKA_BROKERS (127.0.0.1:9092) where; --no-lag skips it.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine, load, printTable } from './lib/load.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const requireFromGateway = createRequire(path.join(here, '../services/gateway/package.json'));
const requireFromMetrics = createRequire(path.join(here, '../services/metrics/package.json'));

/** CPU time (user + system) of a process so far, in microseconds, from /proc/PID/stat. */
function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

/** Runs `work` and returns its result with the CPU each named process spent per request. */
async function withCpu(pids, work) {
  const before = pids.map(([, pid]) => cpuMicros(pid));
  const row = await work();
  const after = pids.map(([, pid]) => cpuMicros(pid));
  row.cpu_us_per_request = Object.fromEntries(
    pids.map(([name], i) => [name, Math.round((after[i] - before[i]) / Math.max(1, row.requests))]),
  );
  return row;
}

/**
 * Samples a consumer group's lag (the topic's end offsets minus the group's committed ones, over all
 * partitions) every `everyMs` until stopped; then `drain()` waits for it to reach zero.
 */
async function lagSampler({ brokers, groupId, topic, everyMs = 250 }) {
  const { Kafka, logLevel } = requireFromMetrics('kafkajs');
  const admin = new Kafka({ clientId: 'bench-lag', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const lag = async () => {
    const [ends, [group]] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const committed = new Map(group.partitions.map((p) => [p.partition, Number(p.offset)]));
    let total = 0;
    for (const p of ends) {
      const done = committed.get(p.partition) ?? -1;
      // -1: nothing committed yet; the group starts at the earliest offset still kept.
      total += Number(p.high) - (done < 0 ? Number(p.low) : done);
    }
    return total;
  };
  const samples = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      samples.push(await lag());
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { max: Math.max(0, ...samples), samples: samples.length };
    },
    /** Milliseconds until the lag is zero (at most `timeoutMs`), and the lag at the start. */
    async drain(timeoutMs = 60_000) {
      const started = Date.now();
      const first = await lag();
      let now = first;
      while (now > 0 && Date.now() - started < timeoutMs) {
        await new Promise((r) => setTimeout(r, 50));
        now = await lag();
      }
      return { at_end: first, drained_ms: now === 0 ? Date.now() - started : undefined };
    },
    close: () => admin.disconnect(),
  };
}

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

// Child roles of the bare chain.
if (process.argv[2] === '--role') {
  const express = requireFromGateway('express');
  const app = express();
  if (process.argv[3] === 'upstream') {
    const { Redis } = requireFromGateway('ioredis');
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    app.get('/incr/:id', async (req, res) =>
      res.json({ views: await redis.incr(`bench:chain:${req.params.id}`) }),
    );
  } else {
    const http = await import('node:http');
    const { createProxyMiddleware } = requireFromGateway('http-proxy-middleware');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    app.use(createProxyMiddleware({ target: process.argv[4], agent, changeOrigin: true }));
  }
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
} else {
  const base = arg('base', 'http://127.0.0.1:8080');
  const seconds = Number(arg('duration', '10'));
  const concurrency = Number(arg('concurrency', '50'));
  const pids = (arg('pids', '') || '')
    .split(',')
    .filter(Boolean)
    .map((pair) => pair.split('='));
  const measure = (work) => (pids.length > 0 ? withCpu(pids, work) : work());
  const sampleLag = !process.argv.includes('--no-lag');
  const rounds = Number(arg('rounds', '1'));
  const started = [];
  const child = (...args) =>
    new Promise((resolve) => {
      const c = fork(fileURLToPath(import.meta.url), ['--role', ...args]);
      started.push(c);
      c.once('message', (m) => resolve(m.port));
    });
  const call = async (method, p, body, token) => {
    const res = await fetch(`${base}${p}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  try {
    console.log(`machine: ${describeMachine()}`);
    const upstream = await child('upstream');
    const chain = await child('gateway', `http://127.0.0.1:${upstream}`);
    // Fixtures through the real gateway: one author, one post per caller so likes never collide.
    const username = `bench_${Date.now().toString(36)}`;
    await call('POST', '/api/auth/register', {
      name: 'Bench',
      username,
      email: `${username}@example.test`,
      password: 'bench-password',
    });
    const { token } = await call('POST', '/api/auth/login', { username, password: 'bench-password' });
    const posts = [];
    for (let i = 0; i < concurrency; i += 1) {
      posts.push(
        (
          await call(
            'POST',
            '/api/posts',
            { title: `Bench ${i}`, description: 'A post for the benchmark.' },
            token,
          )
        ).id,
      );
    }
    const auth = { authorization: `Bearer ${token}` };
    const liked = new Array(concurrency).fill(false);
    const scenarios = {
      ceiling: () =>
        withCpu(
          [
            ['gateway', started[1].pid],
            ['upstream', started[0].pid],
          ],
          () =>
            load({
              name: 'ceiling: bare chain, one Redis INCR',
              base: `http://127.0.0.1:${chain}`,
              seconds,
              concurrency,
              request: (i) => ({ method: 'GET', path: `/incr/${i}` }),
            }),
        ),
      view: () =>
        measure(() =>
          load({
            name: 'view: GET /api/posts/:id',
            base,
            seconds,
            concurrency,
            request: (i) => ({ method: 'GET', path: `/api/posts/${posts[i]}` }),
          }),
        ),
      like: () =>
        measure(() =>
          load({
            name: 'like/unlike alternating',
            base,
            seconds,
            concurrency,
            request: (i) => {
              liked[i] = !liked[i];
              return {
                method: liked[i] ? 'POST' : 'DELETE',
                path: `/api/posts/${posts[i]}/${liked[i] ? 'like' : 'unlike'}`,
                headers: auth,
              };
            },
          }),
        ),
    };
    // Rounds of ceiling, views, likes: on a shared machine the load of everything else changes by
    // the minute, so each round's shares of the ceiling are taken, and their median reported.
    const rows = [];
    const shares = { view: [], like: [] };
    let lag;
    for (let round = 1; round <= rounds; round += 1) {
      const ceiling = await scenarios.ceiling();
      const lagOf =
        sampleLag && round === 1
          ? await lagSampler({
              brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
              groupId: arg('lag-group', 'metrics-counters'),
              topic: arg('lag-topic', 'blog.metrics.v1'),
            })
          : undefined;
      const view = await scenarios.view();
      if (lagOf) {
        const during = await lagOf.stop();
        const after = await lagOf.drain();
        await lagOf.close();
        lag = { max_during_views: during.max, samples: during.samples, ...after };
      }
      const like = await scenarios.like();
      for (const r of [ceiling, view, like]) rows.push({ round, ...r });
      shares.view.push(view.rps / ceiling.rps);
      shares.like.push(like.rps / ceiling.rps);
    }
    printTable(rows.map((r) => ({ ...r, name: rounds > 1 ? `${r.round}: ${r.name}` : r.name })));
    for (const r of rows)
      if (r.cpu_us_per_request)
        console.log(`${r.round}: ${r.name}: CPU µs/request ${JSON.stringify(r.cpu_us_per_request)}`);
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const [name, xs] of Object.entries(shares))
      console.log(
        `${name}: ${Math.round(100 * median(xs))}% of the ceiling (median of ${xs.length}; ` +
          `${xs.map((x) => `${Math.round(100 * x)}%`).join(', ')})`,
      );
    if (lag)
      console.log(
        `consumer lag (events) during the view run: max ${lag.max_during_views} over ${lag.samples} samples; ` +
          `${lag.at_end} at its end, drained in ${lag.drained_ms ?? 'more than 60000'} ms`,
      );
    if (process.argv.includes('--json')) console.log(JSON.stringify({ rows, lag }));
  } finally {
    for (const c of started) c.kill();
  }
}
