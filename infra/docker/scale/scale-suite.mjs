// The scale suite (npm run test:scale runs it through infra/docker/test-scale.sh): faults applied to
// the HA compose platform (three Kafka nodes, two replicas of every backend service) while virtual
// users register, post, comment, view, like and unlike through its gateway. For each fault:
//   - answers: every request got the right answer or a clear one (a 5xx JSON within ANSWER_BOUND_MS),
//     never a hang, a reset or a non-JSON 5xx;
//   - recovery: every container healthy, the gateway ready, every consumer group's lag 0 and every
//     partition's replicas in sync again, without a hand, within RECOVERY_BOUND_MS;
//   - totals: per post, the likes and views the API answers equal metrics' PostgreSQL totals (the
//     counter rows and the liked rows), and every reader's like is in the state its last certain
//     answer said.
// Figures per fault (requests right/clear/bad, lag peak, time to recovery, and for a dead consumer
// how long its partitions went unprocessed) go to stderr; the last stdout line is `N passed, N failed`.
// Env: SCALE_GATEWAY_URL, SCALE_PROBE_URL (probe.mjs), COMPOSE_PROJECT_NAME, SCALE_FAULTS (comma-
// separated subset of the fault names below).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const GATEWAY = process.env.SCALE_GATEWAY_URL ?? 'http://127.0.0.1:8180';
const PROBE = process.env.SCALE_PROBE_URL ?? 'http://127.0.0.1:8181';
const PROJECT = process.env.COMPOSE_PROJECT_NAME ?? 'mpbha';
const ANSWER_BOUND_MS = 6000;
// Generous: on a saturated 2-core machine a killed broker replays its metadata log for minutes.
const RECOVERY_BOUND_MS = Number(process.env.SCALE_RECOVERY_MS ?? 300_000);
const METRICS_TOPIC = 'blog.metrics.v1';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => process.stderr.write(`[scale] ${a.join(' ')}\n`);

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed += 1;
  else failed += 1;
  log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}

// ---- Docker ----
const docker = async (...args) => (await run('docker', args, { maxBuffer: 16 << 20 })).stdout.trim();
async function containers(service) {
  const out = await docker(
    'ps',
    '-a',
    '--filter',
    `label=com.docker.compose.project=${PROJECT}`,
    '--filter',
    `label=com.docker.compose.service=${service}`,
    '--format',
    '{{.Names}}',
  );
  return out.split('\n').filter(Boolean).sort();
}
async function allContainers() {
  const out = await docker(
    'ps',
    '-a',
    '--filter',
    `label=com.docker.compose.project=${PROJECT}`,
    '--format',
    '{{.Names}}',
  );
  return out.split('\n').filter(Boolean);
}
async function health(name) {
  return docker(
    'inspect',
    '-f',
    '{{if not .State.Running}}exited:{{.State.ExitCode}}{{else if .State.Health}}{{.State.Health.Status}}{{else}}running{{end}}',
    name,
  ).catch(() => 'gone');
}
async function psql(sql) {
  const [pg] = await containers('postgres');
  return docker('exec', pg, 'psql', '-U', 'postgres', '-d', 'mpb_metrics', '-At', '-F', ',', '-c', sql);
}

// ---- Kafka, through the probe ----
/** The probe's view of the cluster; asked up to `attempts` times (a busy cluster can miss its 8 s). */
async function kafkaState(attempts = 1) {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${PROBE}/state`, { signal: AbortSignal.timeout(10000) });
      if (res.status !== 200) throw new Error(`probe: ${res.status} ${await res.text()}`);
      return await res.json();
    } catch (err) {
      if (attempt >= attempts) throw err;
    }
  }
}
const totalLag = (s) => Object.values(s.groups).reduce((n, g) => n + g.lag, 0);
const allInSync = (s) =>
  Object.values(s.topics).every((t) =>
    t.partitions.every((p) => p.isr.length === p.replicas.length && p.leader >= 0),
  );

// ---- HTTP ----
async function request(method, path, token, body) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(`${GATEWAY}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(ANSWER_BOUND_MS),
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, detail: json === undefined ? `non-JSON: ${text.slice(0, 80)}` : '' };
  } catch (err) {
    if (err.name === 'TimeoutError') return { status: 0, detail: 'hang' };
    const code = err.cause?.code ?? '';
    return { status: 0, detail: code === 'ECONNREFUSED' ? 'refused' : `reset (${code || err.message})` };
  }
}
/** Setup and checks: a clear busy answer (502/503/504 JSON) is tried again a few times. */
async function api(method, path, o = {}) {
  let res;
  for (let attempt = 1; attempt <= 6; attempt++) {
    res = await request(method, path, o.token, o.body);
    if (![0, 502, 503, 504].includes(res.status)) return res;
    await sleep(500 * attempt);
  }
  return res;
}

const uniq = (p) => `${p}${randomBytes(5).toString('hex')}`;
async function newUser() {
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const username = uniq('scale_');
  const reg = await api('POST', '/api/auth/register', {
    body: { name: 'Scale User', username, email: `${username}@example.test`, password },
  });
  if (reg.status !== 201 && reg.status !== 409)
    throw new Error(`register: ${reg.status} ${JSON.stringify(reg.json)}`);
  const login = await api('POST', '/api/auth/login', { body: { username, password } });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.json)}`);
  return { id: login.json.user.id, token: login.json.token };
}
async function newPost(user) {
  const res = await api('POST', '/api/posts', {
    token: user.token,
    body: {
      title: 'Scale target',
      description: 'A post the scale suite reads, likes and comments under load.',
    },
  });
  if (res.status !== 201) throw new Error(`create post: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json.id;
}

// ---- Load ----
const outcomes = [];
const likeState = new Map();
const pairKey = (vu, post) => `${vu}:${post}`;
const pick = (list) => list[Math.floor(Math.random() * list.length)];

function startLoad(world, pauseMs = 60) {
  let stopping = false;
  const one = async (vu, user) => {
    const r = Math.random();
    const postId = pick(world.targets);
    const t0 = Date.now();
    let op;
    let res;
    if (r < 0.35) {
      op = 'view';
      res = await request('GET', `/api/posts/${postId}`);
    } else if (r < 0.62) {
      const key = pairKey(vu, postId);
      op = likeState.get(key) === 'liked' ? 'unlike' : 'like';
      res =
        op === 'like'
          ? await request('POST', `/api/posts/${postId}/like`, user.token)
          : await request('DELETE', `/api/posts/${postId}/unlike`, user.token);
      const error = res.json?.error;
      if (res.status === 200) likeState.set(key, op === 'like' ? 'liked' : 'unliked');
      else if (error === 'user already liked this post') likeState.set(key, 'liked');
      else if (error === "user hasn't liked this post") likeState.set(key, 'unliked');
      else likeState.set(key, 'unknown');
    } else if (r < 0.72) {
      op = 'comment';
      res = await request('POST', '/api/comments', user.token, {
        post_id: postId,
        text: `scale comment ${t0}`,
      });
    } else if (r < 0.78) {
      op = 'create';
      res = await request('POST', '/api/posts', user.token, {
        title: `Scale post ${t0}`,
        description: 'Under a fault.',
      });
    } else if (r < 0.8) {
      op = 'register';
      const username = uniq('scale_');
      res = await request('POST', '/api/auth/register', undefined, {
        name: 'Scale Load',
        username,
        email: `${username}@example.test`,
        password: `pw-${username}`,
      });
    } else if (r < 0.9) {
      op = 'list';
      res = await request('GET', '/api/posts?limit=5');
    } else {
      op = 'me';
      res = await request('GET', '/api/auth/me', user.token);
    }
    const t1 = Date.now();
    const expected400 =
      (op === 'like' && res.json?.error === 'user already liked this post') ||
      (op === 'unlike' && res.json?.error === "user hasn't liked this post");
    let kind;
    let detail = res.detail;
    if ((res.status >= 200 && res.status < 300) || expected400) kind = 'ok';
    else if (res.status >= 500 && typeof res.json?.error === 'string' && t1 - t0 < ANSWER_BOUND_MS) {
      kind = 'clear';
      detail = `${res.status} ${res.json.error}`;
    } else {
      kind = 'bad';
      if (res.status >= 400) detail = `${res.status} ${detail || JSON.stringify(res.json)}`;
    }
    outcomes.push({
      vu,
      op,
      postId: ['view', 'like', 'unlike', 'comment'].includes(op) ? postId : undefined,
      status: res.status,
      kind,
      detail,
      t0,
      t1,
    });
  };
  const loops = world.vus.map(async (user, vu) => {
    while (!stopping) {
      await one(vu, user);
      await sleep(pauseMs);
    }
  });
  return async () => {
    stopping = true;
    await Promise.all(loops);
  };
}

// ---- Recovery, lag, verification ----
async function recovered() {
  for (const name of await allContainers()) {
    const h = await health(name);
    if (!['healthy', 'running', 'exited:0'].includes(h)) return `${name} ${h}`;
  }
  const g = await request('GET', '/health');
  if (g.status !== 200) return `gateway /health ${g.status}`;
  const s = await kafkaState();
  if (!allInSync(s)) return 'replicas out of sync';
  const lag = totalLag(s);
  if (lag > 0) return `lag ${lag}`;
  return '';
}
async function waitRecovered(from) {
  let why = '';
  while (Date.now() - from < RECOVERY_BOUND_MS) {
    why = await recovered().catch((err) => err.message);
    if (!why) return { ms: Date.now() - from, why };
    await sleep(1000);
  }
  return { ms: -1, why };
}

/** Samples every group's lag (and each partition's committed offset) every second until stopped. */
function sampleLag() {
  const samples = [];
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const t = Date.now();
      try {
        const s = await kafkaState();
        samples.push({ t, lag: totalLag(s), groups: s.groups });
      } catch {
        samples.push({ t, lag: null });
      }
      await sleep(Math.max(0, 1000 - (Date.now() - t)));
    }
  })();
  return async () => {
    stopping = true;
    await loop;
    return samples;
  };
}

async function totals(world) {
  const list = await api('GET', `/api/posts?user_id=${world.author.id}&limit=100`);
  if (list.status !== 200) throw new Error(`list: ${list.status}`);
  const ids = world.targets.join(',');
  const counters = new Map(
    (await psql(`select post_id, views, likes from post_counters where post_id in (${ids})`))
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(',').map(Number))
      .map(([p, v, l]) => [p, { v, l }]),
  );
  const rows = new Map(
    (
      await psql(
        `select post_id, count(*) from post_likes where liked and post_id in (${ids}) group by post_id`,
      )
    )
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(',').map(Number)),
  );
  return world.targets.map((id) => {
    const p = list.json.find((x) => x.id === id);
    return {
      id,
      apiLikes: p?.like ?? -1,
      apiViews: p?.count_viewers ?? -1,
      pgLikes: counters.get(id)?.l ?? 0,
      pgLikeRows: rows.get(id) ?? 0,
      pgViews: counters.get(id)?.v ?? 0,
    };
  });
}
const agree = (t) => t.apiLikes === t.pgLikes && t.pgLikes === t.pgLikeRows && t.apiViews === t.pgViews;

async function verify(name, world) {
  let last = [];
  const deadline = Date.now() + 45000;
  while (Date.now() < deadline) {
    last = await totals(world).catch(() => []);
    if (last.length && last.every(agree)) break;
    await sleep(500);
  }
  check(
    `${name}: likes and views through the API equal metrics' PostgreSQL totals`,
    last.length > 0 && last.every(agree),
    JSON.stringify(last),
  );
  const wrong = [];
  for (const postId of world.targets) {
    const t = last.find((x) => x.id === postId);
    let likers = 0;
    for (let vu = 0; vu < world.vus.length; vu++) {
      const res = await api('GET', `/api/posts/${postId}/like`, { token: world.vus[vu].token });
      if (res.status !== 200) {
        wrong.push(`like state ${res.status}`);
        continue;
      }
      if (res.json.liked) likers += 1;
      const known = likeState.get(pairKey(vu, postId));
      if (known !== 'unknown' && (known === 'liked') !== res.json.liked) {
        wrong.push(
          `reader ${vu} post ${postId}: answers say ${known}, API says ${res.json.liked ? 'liked' : 'unliked'}`,
        );
      }
    }
    if (t && t.apiLikes !== likers)
      wrong.push(`post ${postId}: ${likers} readers like it, the API counts ${t.apiLikes}`);
  }
  check(`${name}: every like matches its last certain answer`, wrong.length === 0, wrong.join('; '));
}

// ---- Faults ----
const kafkaNodes = ['kafka-1', 'kafka-2', 'kafka-3'];
async function brokerContainer(nodeId) {
  return (await containers(`kafka-${nodeId}`))[0];
}
async function waitHealthy(names, timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(names.map(health));
    if (states.every((s) => s === 'healthy')) return;
    if (Date.now() > deadline)
      throw new Error(`not healthy: ${names.map((n, i) => `${n}=${states[i]}`).join(' ')}`);
    await sleep(1000);
  }
}

const faults = {
  /** One broker killed, 15 s under load, started again. */
  async 'broker-kill'() {
    const name = (await containers(pick(kafkaNodes)))[0];
    log(`killing ${name}`);
    await docker('kill', name);
    await sleep(15000);
    await docker('start', name);
    return { victim: name };
  },
  /** The broker that leads the most partitions of the metrics topic, killed and started again. */
  async 'metrics-leader-kill'() {
    const s = await kafkaState(5);
    const count = new Map();
    for (const p of s.topics[METRICS_TOPIC].partitions) count.set(p.leader, (count.get(p.leader) ?? 0) + 1);
    const leader = [...count].sort((a, b) => b[1] - a[1])[0][0];
    const name = await brokerContainer(leader);
    log(`killing ${name}, leader of ${count.get(leader)} of the metrics topic's partitions`);
    await docker('kill', name);
    await sleep(15000);
    await docker('start', name);
    return { victim: name, ledPartitions: count.get(leader) };
  },
  /**
   * A metrics replica (a member of the metrics consumer group) killed while it folds; the other
   * replica takes its partitions once the group notices (session timeout). Measures how long the dead
   * member's partitions went unprocessed: from the kill until their committed offsets move again.
   */
  async 'consumer-kill'(ctx) {
    const name = (await containers('metrics'))[0];
    const before = await kafkaState(5);
    log(`killing ${name} mid-batch`);
    const killedAt = Date.now();
    await docker('kill', name);
    // A partition of the metrics topic is waiting when its group's committed offset is behind its end
    // after the kill; it is processed again when that offset moves. The dead member's partitions wait
    // longest: the largest gap is how long a partition went unprocessed.
    const offsetAt = (s, g, k) => s?.groups[g]?.partitions[k]?.committed ?? -1;
    const waiting = new Map();
    const resumed = {};
    const deadline = Date.now() + 90000;
    for (;;) {
      const s = await kafkaState().catch(() => undefined);
      for (const [g, v] of Object.entries(s?.groups ?? {})) {
        for (const [k, p] of Object.entries(v.partitions)) {
          if (!k.startsWith(METRICS_TOPIC)) continue;
          const key = `${g}|${k}`;
          if (resumed[key] !== undefined) continue;
          if (!waiting.has(key) && p.lag > 0) waiting.set(key, offsetAt(before, g, k));
          else if (waiting.has(key) && p.committed > waiting.get(key)) resumed[key] = Date.now() - killedAt;
        }
      }
      const open = [...waiting.keys()].filter((k) => resumed[k] === undefined);
      if ((waiting.size > 0 && open.length === 0 && Date.now() - killedAt > 5000) || Date.now() > deadline)
        break;
      await sleep(500);
    }
    await docker('start', name);
    ctx.unprocessedMs = Math.max(...Object.values(resumed), 0);
    return { victim: name, partitionResumedMs: resumed };
  },
  /** Every backend service's replicas restarted: the first replica of each, then the second. */
  async 'rolling-restart'() {
    const services = ['auth', 'posts', 'comments', 'attachments', 'metrics'];
    const lists = await Promise.all(services.map(containers));
    for (let i = 0; i < 2; i++) {
      const round = lists.map((l) => l[i]).filter(Boolean);
      log(`restarting ${round.join(' ')}`);
      await Promise.all(round.map((n) => docker('restart', '-t', '20', n)));
      await waitHealthy(round);
    }
    return {};
  },
  /** The network between a metrics replica and the three brokers cut for 20 s (a rule in its netns). */
  async 'metrics-network-cut'() {
    const name = (await containers('metrics'))[1];
    const pid = await docker('inspect', '-f', '{{.State.Pid}}', name);
    const ips = [];
    for (const n of kafkaNodes)
      ips.push(
        await docker(
          'inspect',
          '-f',
          '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
          (await containers(n))[0],
        ),
      );
    const rule = (op) =>
      ips.map((ip) => run('nsenter', ['-t', pid, '-n', 'iptables', op, 'OUTPUT', '-d', ip, '-j', 'DROP']));
    log(`cutting ${name} off ${ips.join(' ')} for 20 s`);
    await Promise.all(rule('-A'));
    await sleep(20000);
    await Promise.all(rule('-D'));
    return { victim: name };
  },
  /** PostgreSQL restarted in its container. */
  async 'postgres-restart'() {
    const [name] = await containers('postgres');
    await docker('restart', '-t', '5', name);
    return { victim: name };
  },
  /** Redis restarted in its container (its counters are rebuilt from PostgreSQL). */
  async 'redis-restart'() {
    const [name] = await containers('redis');
    await docker('restart', '-t', '5', name);
    return { victim: name };
  },
};

async function runFault(name, world) {
  const ctx = {};
  const seen = outcomes.length;
  const stopLoad = startLoad(world);
  const stopSampling = sampleLag();
  let info = {};
  let rec = { ms: -1, why: 'fault threw' };
  let faultMs = -1;
  try {
    await sleep(3000);
    const from = Date.now();
    info = await faults[name](ctx);
    // Recovery counts from the moment the fault was lifted (the broker started again, the rule removed).
    const lifted = Date.now();
    faultMs = lifted - from;
    rec = await waitRecovered(lifted);
    await sleep(2000);
  } catch (err) {
    log(`${name}: ${err.message}`);
  } finally {
    await stopLoad();
  }
  const samples = await stopSampling();
  const mine = outcomes.slice(seen);
  const by = (k) => mine.filter((o) => o.kind === k).length;
  const bad = mine.filter((o) => o.kind === 'bad');
  const lagPeak = Math.max(0, ...samples.map((s) => s.lag ?? 0));
  const figures = {
    requests: mine.length,
    right: by('ok'),
    clear: by('clear'),
    bad: by('bad'),
    faultMs,
    recoveryMs: rec.ms,
    lagPeak,
    ...info,
    ...(ctx.unprocessedMs !== undefined ? { partitionUnprocessedMs: ctx.unprocessedMs } : {}),
  };
  log(`${name} figures ${JSON.stringify(figures)}`);
  check(
    `${name}: every request answered right or clearly`,
    bad.length === 0 && mine.length > 0,
    bad
      .slice(0, 5)
      .map((o) => `${o.op} ${o.detail} after ${o.t1 - o.t0} ms`)
      .join('; '),
  );
  check(`${name}: recovered without a hand`, rec.ms >= 0, rec.why);
  await verify(name, world);
  return figures;
}

async function main() {
  const t0 = Date.now();
  const s = await kafkaState(5);
  const topics = Object.entries(s.topics);
  const off = topics.filter(
    ([, t]) => t.minInsync !== 2 || t.partitions.some((p) => p.replicas.length !== 3),
  );
  check(
    'every topic has three replicas and min.insync.replicas=2',
    topics.length > 0 && off.length === 0,
    off
      .map(([n, t]) => `${n}: ${t.partitions[0]?.replicas.length} replicas, min ISR ${t.minInsync}`)
      .join('; '),
  );

  const author = await newUser();
  const vus = [];
  for (let i = 0; i < 5; i++) vus.push(await newUser());
  const targets = [];
  for (let i = 0; i < 3; i++) targets.push(await newPost(author));
  const world = { author, vus, targets };
  for (let vu = 0; vu < vus.length; vu++) for (const p of targets) likeState.set(pairKey(vu, p), 'unliked');

  const chosen = (process.env.SCALE_FAULTS ?? Object.keys(faults).join(',')).split(',').filter(Boolean);
  const all = {};
  for (const name of chosen) {
    if (!faults[name]) throw new Error(`unknown fault ${name}`);
    const t = Date.now();
    all[name] = await runFault(name, world);
    all[name].durationMs = Date.now() - t;
  }
  log(`figures ${JSON.stringify(all)}`);
  log(`suite took ${Math.round((Date.now() - t0) / 1000)} s`);
}

main()
  .catch((err) => {
    log(`suite stopped: ${err.stack ?? err}`);
    failed += 1;
  })
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed > 0 ? 1 : 0);
  });
