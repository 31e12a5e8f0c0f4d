// Views and likes through the gateway, beside the ceiling measured in the same run: a bare chain of
// the same shape (an express gateway with http-proxy-middleware in front of an express handler doing
// one Redis INCR, each in its own process, keep-alive upstream).
//   VIEW_DEDUP_SECONDS=0 npm start   (in another terminal), then:
//   node bench/gateway-views-likes.mjs [--duration 10] [--concurrency 50]
//   node bench/gateway-views-likes.mjs --start     (a platform of its own on free ports, see below)
// The view run measures the counted path (Redis script, Kafka publish): all its reads come from one
// client, which metrics would count once per post with its default VIEW_DEDUP_SECONDS, so the script
// checks first that the platform counts every read and stops if not.
// Options: --rounds N repeats ceiling, views, likes N times and reports the median share of the
// ceiling; --pids gateway=PID,posts=PID,metrics=PID also prints the CPU each process spent per
// request in each scenario (from /proc, Linux) and each one's resident memory after the runs;
// --lag-group / --lag-topic name the consumer group whose lag is sampled during and after the view
// run (metrics-counters on blog.metrics.v1), and KAFKA_BROKERS (127.0.0.1:9092) where; --no-lag
// skips it. --start starts every service from its build on free ports against the infrastructure
// in the environment (PG_URL, REDIS_URL, KAFKA_BROKERS, S3_*), `_bench` databases and `bench.`
// topics, metrics with VIEW_DEDUP_SECONDS=0, and measures it (pids taken from the children);
// --cpu-prof DIR starts those services with `node --cpu-prof` writing their profiles to DIR.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startBareChain } from './lib/chain.mjs';
import { lagSampler } from './lib/kafka-lag.mjs';
import { describeMachine, load, printTable } from './lib/load.mjs';
import { cpuMicros, rssMiB } from './lib/proc.mjs';

const { values: opts } = parseArgs({
  options: {
    base: { type: 'string', default: 'http://127.0.0.1:8080' },
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '1' },
    pids: { type: 'string', default: '' },
    'lag-group': { type: 'string', default: 'metrics-counters' },
    'lag-topic': { type: 'string', default: 'blog.metrics.v1' },
    'no-lag': { type: 'boolean', default: false },
    start: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(
    'usage: node bench/gateway-views-likes.mjs [--start [--cpu-prof DIR] [--log-level info]] [--base URL] ' +
      '[--duration S] [--concurrency N] [--rounds N] [--pids name=PID,...] [--lag-group G] [--lag-topic T] [--no-lag] [--json]',
  );
  process.exit(0);
}
const positive = (name) => {
  const n = Number(opts[name]);
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`--${name} must be a positive whole number`);
  return n;
};

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

{
  let base = opts.base.replace(/\/+$/, '');
  const seconds = positive('duration');
  const concurrency = positive('concurrency');
  const rounds = positive('rounds');
  let pids = opts.pids
    .split(',')
    .filter(Boolean)
    .map((pair) => pair.split('='));
  const sampleLag = !opts['no-lag'];
  let lagGroup = opts['lag-group'];
  let lagTopic = opts['lag-topic'];
  let chain;
  let platform;
  let parked = 0;
  const measure = (work) => (pids.length > 0 ? withCpu(pids, work) : work());
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
    if (opts.start) {
      const { startPlatform } = await import('../infra/local/platform.mjs');
      const profiles = opts['cpu-prof'] ? path.resolve(opts['cpu-prof']) : undefined;
      if (profiles) mkdirSync(profiles, { recursive: true });
      const topicPrefix = 'bench.';
      const profiled = ['gateway', 'posts', 'metrics'];
      platform = await startPlatform({
        ports: 'free',
        infra: process.env,
        dbSuffix: '_bench',
        topicPrefix,
        logLevel: opts['log-level'],
        // Warnings, errors and anything that is not a JSON log line (a crash) are shown; events
        // parked in a dead-letter topic are counted (a view or like parked is never folded).
        onLog: (name, line) => {
          if (line.includes('event parked in the dead-letter topic')) parked += 1;
          if (!/^\{"level":"(trace|debug|info)"/.test(line)) process.stderr.write(`${name} | ${line}\n`);
        },
        extraEnv: {
          gateway: { RATE_LIMIT_AUTH_MAX: '1000000' },
          metrics: { VIEW_DEDUP_SECONDS: '0' },
        },
        nodeArgs: profiles
          ? Object.fromEntries(
              profiled.map((name) => [
                name,
                ['--cpu-prof', `--cpu-prof-dir=${profiles}`, `--cpu-prof-name=${name}.cpuprofile`],
              ]),
            )
          : undefined,
      });
      base = platform.gatewayUrl;
      lagGroup = `${topicPrefix}${lagGroup}`;
      lagTopic = `${topicPrefix}${lagTopic}`;
      if (pids.length === 0) pids = platform.children.map((c) => [c.name, c.proc.pid]);
      console.log(`platform started: gateway at ${base}${profiles ? `, CPU profiles in ${profiles}` : ''}`);
    }
    chain = await startBareChain();
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
    // Two reads by this one client: both must count, or the view run would measure the dedup path.
    for (let i = 0; i < 2; i += 1) {
      const read = await fetch(`${base}/api/posts/${posts[0]}`);
      await read.arrayBuffer();
      if (read.headers.get('x-view-recorded') !== 'true') {
        throw new Error(
          'the platform does not count every read of one client (metrics deduplicates views); ' +
            'start it with VIEW_DEDUP_SECONDS=0 npm start to measure the counted path',
        );
      }
    }
    const auth = { authorization: `Bearer ${token}` };
    const liked = new Array(concurrency).fill(false);
    const scenarios = {
      ceiling: () => withCpu(Object.entries(chain.pids), () => chain.measure({ seconds, concurrency })),
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
    // p99 as a multiple of the ceiling's p99 in the same round (the target: at most 2).
    const p99s = { view: [], like: [] };
    let lag;
    for (let round = 1; round <= rounds; round += 1) {
      const ceiling = await scenarios.ceiling();
      const lagOf =
        sampleLag && round === 1
          ? await lagSampler({
              brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
              groupId: lagGroup,
              topic: lagTopic,
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
      p99s.view.push(view.p99_ms / ceiling.p99_ms);
      p99s.like.push(like.p99_ms / ceiling.p99_ms);
    }
    printTable(rows.map((r) => ({ ...r, name: rounds > 1 ? `${r.round}: ${r.name}` : r.name })));
    for (const r of rows)
      if (r.cpu_us_per_request)
        console.log(`${r.round}: ${r.name}: CPU µs/request ${JSON.stringify(r.cpu_us_per_request)}`);
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const [name, xs] of Object.entries(shares))
      console.log(
        `${name}: ${Math.round(100 * median(xs))}% of the ceiling (median of ${xs.length}; ` +
          `${xs.map((x) => `${Math.round(100 * x)}%`).join(', ')}); ` +
          `p99 ${median(p99s[name]).toFixed(2)}× the ceiling's (${p99s[name].map((x) => x.toFixed(2)).join(', ')})`,
      );
    if (lag)
      console.log(
        `consumer lag (events) during the view run: max ${lag.max_during_views} over ${lag.samples} samples; ` +
          `${lag.at_end} at its end, drained in ${lag.drained_ms ?? 'more than 60000'} ms`,
      );
    const rss = Object.fromEntries(pids.map(([name, pid]) => [name, rssMiB(pid)]));
    if (pids.length > 0)
      console.log(
        `RSS after the runs (MiB): ${Object.entries(rss)
          .map(([name, mib]) => `${name} ${mib}`)
          .join(', ')}`,
      );
    if (platform) console.log(`events parked in a dead-letter topic: ${parked}`);
    if (opts.json) console.log(JSON.stringify({ rows, lag, shares, rss, parked }));
  } finally {
    chain?.stop();
    await platform?.stop();
  }
}
