// Views and likes through the gateway, beside the ceiling measured in the same run: a bare chain of
// the same shape (an express gateway with http-proxy-middleware in front of an express handler doing
// one Redis INCR, each in its own process, keep-alive upstream).
//   VIEW_DEDUP_SECONDS=0 npm start   (in another terminal), then:
//   node bench/gateway-views-likes.mjs [--duration 10] [--concurrency 50]
// The view run measures the counted path (Redis script, Kafka publish): all its reads come from one
// client, which metrics would count once per post with its default VIEW_DEDUP_SECONDS, so the script
// checks first that the platform counts every read and stops if not.
// Options: --rounds N repeats ceiling, views, likes N times and reports the median share of the
// ceiling; --pids gateway=PID,posts=PID,metrics=PID also prints the CPU each process spent per
// request in each scenario (from /proc, Linux); --lag-group / --lag-topic name the consumer group
// whose lag is sampled during and after the view run (metrics-counters on blog.metrics.v1), and
// KAFKA_BROKERS (127.0.0.1:9092) where; --no-lag skips it.
import { readFileSync } from 'node:fs';
import { startBareChain } from './lib/chain.mjs';
import { lagSampler } from './lib/kafka-lag.mjs';
import { describeMachine, load, printTable } from './lib/load.mjs';

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

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

{
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
  let chain;
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
    chain?.stop();
  }
}
