#!/usr/bin/env node
// Read-path benchmark for posts: GET /api/posts/:id and GET /api/posts?limit=20 under a fixed
// number of concurrent keep-alive connections, next to a bare Node http server (the ceiling of
// this machine and this load generator). Plain Node, no dependencies, no build.
//
//   node bench/posts-read.mjs                                   # through the gateway on :8080
//   node bench/posts-read.mjs --base http://127.0.0.1:3002 --auth-url http://127.0.0.1:3001
//   node bench/posts-read.mjs --base http://127.0.0.1:3002 --token <access token>
//
// Options (or environment): --base (BENCH_BASE_URL), --auth-url (BENCH_AUTH_URL; default: the base,
// as the gateway serves /api/auth), --token (BENCH_TOKEN), --duration seconds (10),
// --concurrency (50), --posts fixture posts to create (50), --json (print one JSON line at the end).
// The root ESLint config declares no Node globals for plain JavaScript files yet.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { load, machine, printTable } from './lib/load.mjs';

function options(argv) {
  const { values } = parseArgs({
    args: argv.slice(2),
    options: {
      base: { type: 'string', default: process.env.BENCH_BASE_URL ?? 'http://127.0.0.1:8080' },
      'auth-url': { type: 'string', default: process.env.BENCH_AUTH_URL },
      token: { type: 'string', default: process.env.BENCH_TOKEN },
      duration: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '50' },
      posts: { type: 'string', default: '50' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: node bench/posts-read.mjs [--base URL] [--auth-url URL] [--token T] [--duration S] [--concurrency N] [--posts N] [--json]',
    );
    process.exit(0);
  }
  const base = values.base.replace(/\/+$/, '');
  const o = {
    base,
    authUrl: (values['auth-url'] ?? base).replace(/\/+$/, ''),
    token: values.token,
    duration: Number(values.duration),
    concurrency: Number(values.concurrency),
    posts: Number(values.posts),
    json: values.json,
  };
  for (const key of ['duration', 'concurrency', 'posts']) {
    if (!Number.isInteger(o[key]) || o[key] < 1) throw new Error(`--${key} must be a positive integer`);
  }
  return o;
}

/** One JSON request for the fixture set-up (no keep-alive needed). */
async function call(method, url, body, token) {
  const res = await fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A user of its own (register + login through auth's API) unless a token was given. */
async function accessToken(o) {
  if (o.token) return o.token;
  const s = randomBytes(5).toString('hex');
  const user = {
    name: `Bench ${s}`,
    username: `bench_${s}`,
    email: `bench_${s}@example.test`,
    password: `bench-${s}-pw`,
  };
  const registered = await call('POST', `${o.authUrl}/api/auth/register`, user);
  if (registered.status !== 201) {
    throw new Error(
      `register at ${o.authUrl} failed: ${registered.status} ${JSON.stringify(registered.body)}`,
    );
  }
  const login = await call('POST', `${o.authUrl}/api/auth/login`, {
    username: user.username,
    password: user.password,
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return login.body.token;
}

async function createFixtures(o, token) {
  const ids = [];
  const tag = `bench-${randomBytes(3).toString('hex')}`;
  for (let i = 0; i < o.posts; i += 1) {
    const res = await call(
      'POST',
      `${o.base}/api/posts`,
      {
        title: `Benchmark post ${i}`,
        description: `A post the read benchmark created (${i}). `.repeat(8),
        tag,
      },
      token,
    );
    if (res.status !== 201)
      throw new Error(`creating a post failed: ${res.status} ${JSON.stringify(res.body)}`);
    ids.push(res.body.id);
  }
  return ids;
}

/**
 * The ceiling: a bare http server answering a post-sized JSON body, in its own thread so it does
 * not share the load generator's event loop.
 */
function startCeiling(postJson, pageJson) {
  const code = `
    const http = require('node:http');
    const { parentPort, workerData } = require('node:worker_threads');
    const server = http.createServer((req, res) => {
      const body = req.url.startsWith('/api/posts?') ? workerData.page : workerData.post;
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    server.keepAliveTimeout = 65000;
    server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
    parentPort.on('message', (m) => { if (m === 'stop') server.close(() => process.exit(0)); server.closeAllConnections(); });
  `;
  const worker = new Worker(code, { eval: true, workerData: { post: postJson, page: pageJson } });
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

async function main() {
  const o = options(process.argv);
  const m = machine();
  console.log(`machine: ${m.cpu} x${m.cpus}, ${m.memory_gib} GiB, node ${m.node}, ${m.platform}`);
  console.log(
    `target: ${o.base} (auth ${o.authUrl}), ${o.duration} s per scenario, ${o.concurrency} connections`,
  );

  const token = await accessToken(o);
  const ids = await createFixtures(o, token);
  console.log(`fixtures: ${ids.length} posts (ids ${ids[0]}..${ids.at(-1)})`);

  const one = await call('GET', `${o.base}/api/posts/${ids[0]}`);
  const page = await call('GET', `${o.base}/api/posts?limit=20`);
  const ceiling = await startCeiling(JSON.stringify(one.body), JSON.stringify(page.body));

  const results = [];
  const run = async (name, base, paths) => {
    const r = await load({ name, base, paths, seconds: o.duration, concurrency: o.concurrency });
    results.push(r);
    console.log(
      `  ${name}: ${r.rps} req/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, errors ${r.errors + r.non_2xx}`,
    );
  };
  try {
    await run('ceiling GET /api/posts/:id', ceiling.base, ['/api/posts/1']);
    await run('ceiling GET /api/posts?limit=20', ceiling.base, ['/api/posts?limit=20']);
    await run(
      'GET /api/posts/:id',
      o.base,
      ids.map((id) => `/api/posts/${id}`),
    );
    await run('GET /api/posts?limit=20', o.base, ['/api/posts?limit=20']);
  } finally {
    await ceiling.stop();
  }
  console.log('');
  printTable(results);
  if (o.json)
    console.log(
      JSON.stringify({
        machine: m,
        target: o.base,
        duration_s: o.duration,
        concurrency: o.concurrency,
        results,
      }),
    );
}

main().catch((err) => {
  console.error(`benchmark failed: ${err.message}`);
  process.exit(1);
});
