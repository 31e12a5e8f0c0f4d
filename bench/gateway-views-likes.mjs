// Views and likes through the gateway, beside the ceiling measured in the same run: a bare chain of
// the same shape (an express gateway with http-proxy-middleware in front of an express handler doing
// one Redis INCR, each in its own process, keep-alive upstream).
//   npm start   (in another terminal), then:  node bench/gateway-views-likes.mjs [--duration 10] [--concurrency 50]
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine, load, printTable } from './lib/load.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const requireFromGateway = createRequire(path.join(here, '../services/gateway/package.json'));

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
    const rows = [];
    rows.push(
      await load({
        name: 'ceiling: bare chain, one Redis INCR',
        base: `http://127.0.0.1:${chain}`,
        seconds,
        concurrency,
        request: (i) => ({ method: 'GET', path: `/incr/${i}` }),
      }),
    );
    rows.push(
      await load({
        name: 'view: GET /api/posts/:id',
        base,
        seconds,
        concurrency,
        request: (i) => ({ method: 'GET', path: `/api/posts/${posts[i]}` }),
      }),
    );
    rows.push(
      await load({
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
    );
    printTable(rows);
    const ceiling = rows[0].rps;
    for (const r of rows.slice(1))
      console.log(`${r.name}: ${Math.round((100 * r.rps) / ceiling)}% of the ceiling`);
  } finally {
    for (const c of started) c.kill();
  }
}
