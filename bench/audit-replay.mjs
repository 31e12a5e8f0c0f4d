#!/usr/bin/env node
// Replays the three high-severity findings of the outside audit against a running platform (by
// default the one `npm start` runs on 127.0.0.1:8080) and prints what each request was answered.
// Loopback only, bounded in count and time: 300 trickling connections for at most 20 s, 60 edits.
//   node bench/audit-replay.mjs [--base-url http://127.0.0.1:8080] [--flood-from 127.0.0.2]
import net from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    'base-url': { type: 'string', default: 'http://127.0.0.1:8080' },
    'flood-from': { type: 'string', default: '127.0.0.2' },
    connections: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '20' },
  },
});
const base = new URL(args['base-url']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tally = (xs) => xs.reduce((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {});

async function api(method, path, { token, body } = {}) {
  const started = Date.now();
  try {
    const res = await fetch(new URL(path, base), {
      method,
      headers: {
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return { status: res.status, text, ms: Date.now() - started };
  } catch (err) {
    return { status: `no answer (${err.cause?.code ?? err.name})`, ms: Date.now() - started };
  }
}

/** A request written by hand, so the path goes out exactly as spelled. */
function raw(method, target, { body = '', localAddress, chunks, gapMs = 0 } = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    const s = net.connect({ port: Number(base.port || 80), host: base.hostname, localAddress });
    let text = '';
    let done = false;
    let timer;
    const finish = (closed) => {
      if (done) return;
      const m = /^HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
      const len = m && /content-length: *(\d+)/i.exec(m[2]);
      if (m && (closed || (len && Buffer.byteLength(m[3]) >= Number(len[1])))) {
        done = true;
        clearTimeout(timer);
        s.destroy();
        resolve({
          status: Number(m[1]),
          text: m[3].replace(/\s+/g, ' ').slice(0, 80),
          ms: Date.now() - started,
        });
      } else if (closed) {
        done = true;
        clearTimeout(timer);
        resolve({ status: 'EMPTY REPLY', ms: Date.now() - started });
      }
    };
    s.on('data', (c) => {
      text += c;
      finish(false);
    });
    s.on('error', () => undefined);
    s.on('close', () => finish(true));
    const head = `${method} ${target} HTTP/1.1\r\nhost: ${base.host}\r\ncontent-type: application/json\r\n`;
    if (chunks) {
      s.write(`${head}transfer-encoding: chunked\r\n\r\n`);
      const next = () => {
        if (done || !chunks.length || !s.writable) return;
        s.write(chunks.shift());
        timer = setTimeout(next, gapMs);
      };
      next();
    } else {
      s.write(`${head}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    }
  });
}

async function newUser(tag) {
  const u = `audit_${tag}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const password = 'audit-password-1';
  const reg = await api('POST', '/api/auth/register', {
    body: { name: 'Audit', username: u, email: `${u}@example.com`, password },
  });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${reg.text}`);
  const res = await fetch(new URL('/api/auth/login', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: u, password }),
  });
  return { username: u, token: (await res.json()).token };
}

console.log(
  `audit replay against ${base.origin}; ${os.cpus().length} × ${os.cpus()[0]?.model}, node ${process.version}`,
);

// 1. The login rate limit and every spelling of the path.
console.log('\n## 1. login rate limit under path spellings');
const login = JSON.stringify({ username: 'nobody_here', password: 'wrong-password' });
const first = [];
// From an address of its own, so the limit it reaches does not stop this script's own sign-ups.
const guesser = '127.0.0.3';
for (let i = 0; i < 21; i += 1)
  first.push((await raw('POST', '/api/auth/login', { body: login, localAddress: guesser })).status);
console.log(`21 × POST /api/auth/login: ${JSON.stringify(tally(first))}`);
for (const spelling of [
  '/api/auth//login',
  '/api/auth/\\login',
  '/api/auth/%2flogin',
  '/api/auth/./login',
  '/api/auth/x/../login',
  '/api/auth/login;x=1',
  '/API/Auth/Login',
  '/api/auth/login/',
  `http://${base.host}/api/auth/login`,
]) {
  const r = await raw('POST', spelling, { body: login, localAddress: guesser });
  console.log(`POST ${spelling} → ${r.status} ${r.text ?? ''} (${r.ms} ms)`);
}

// 2. Slow bodies from one address while another reads.
console.log(`\n## 2. ${args.connections} connections from ${args['flood-from']} trickling chunked bodies`);
const author = await newUser('reader');
const post = await api('POST', '/api/posts', {
  token: author.token,
  body: { title: 'Audit replay', description: 'A post read during the flood.' },
});
const postId = JSON.parse(post.text).id;
const floodEnds = Date.now() + Number(args.seconds) * 1000;
const flood = Array.from({ length: Number(args.connections) }, () =>
  raw('POST', '/api/posts', {
    localAddress: args['flood-from'],
    chunks: Array.from({ length: Math.ceil(Number(args.seconds) / 3) }, () => '1\r\n{\r\n'),
    gapMs: 3000,
  }),
);
const reads = [];
await sleep(1000);
while (Date.now() < floodEnds) {
  const r = await api('GET', `/api/posts/${postId}`);
  reads.push(r);
  await sleep(1000);
}
const flooded = await Promise.all(flood);
console.log(`reader GET /api/posts/${postId}: ${reads.map((r) => `${r.status}/${r.ms}ms`).join(' ')}`);
console.log(
  `tricklers answered: ${JSON.stringify(tally(flooded.map((r) => r.status)))}, last after ${Math.max(...flooded.map((r) => r.ms))} ms`,
);

// 3. A burst of long edits, then a deletion whose cascade must still land.
console.log('\n## 3. 60 concurrent 20,000-character CJK edits, then a deletion');
const writer = await newUser('writer');
const created = await Promise.all(
  Array.from({ length: 6 }, (_, i) =>
    api('POST', '/api/posts', {
      token: writer.token,
      body: { title: `Long ${i}`, description: 'To be edited.' },
    }),
  ),
);
const ids = created.map((r) => JSON.parse(r.text).id);
const edits = await Promise.all(
  Array.from({ length: 60 }, (_, i) =>
    api('PUT', `/api/posts/${ids[i % ids.length]}`, {
      token: writer.token,
      body: { description: `${'漢'.repeat(19_990)}${String(i).padStart(10, '0')}` },
    }),
  ),
);
console.log(`edits: ${JSON.stringify(tally(edits.map((r) => r.status)))}`);
const victim = JSON.parse(
  (
    await api('POST', '/api/posts', {
      token: writer.token,
      body: { title: 'Victim', description: 'Deleted next.' },
    })
  ).text,
).id;
for (let i = 0; i < 3; i += 1)
  await api('POST', `/api/posts/${victim}/comments`, { token: author.token, body: { text: `comment ${i}` } });
const del = await api('DELETE', `/api/posts/${victim}`, { token: writer.token });
const afterDelete = await api('GET', `/api/posts/${victim}/comments`);
console.log(
  `DELETE post ${victim}: ${del.status}; its comments right after: ${afterDelete.status} ${afterDelete.text.slice(0, 120)}`,
);
console.log(
  `(the cascade itself: check comments' rows, e.g. psql -d mpb_comments -c "select count(*) from comments where post_id=${victim} and deleted_at is null")`,
);
