#!/usr/bin/env node
// Upload benchmark for attachments: multipart uploads through the gateway, `concurrency` at a time,
// for each file size; prints MB/s and the peak resident memory (VmRSS, sampled every 50 ms from
// /proc) of the gateway and of the attachments service during the run, next to their RSS before it.
// Memory must stay flat as files grow: each upload holds a few 64 KiB buffers, whatever its size.
//
//   node bench/attachments-upload.mjs                  # a platform on :8080 (npm start), same machine
//   node bench/attachments-upload.mjs --start          # starts its own platform on free ports (_bench databases)
//
// Options: --base (BENCH_BASE_URL, http://127.0.0.1:8080), --attachments-port (3004; to find its
// process), --sizes MB list (1,5,20), --concurrency (20), --rounds uploads per caller (2), --json.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeMachine } from './lib/load.mjs';

const MB = 1024 * 1024;

function options(argv) {
  const { values } = parseArgs({
    args: argv.slice(2),
    options: {
      base: { type: 'string', default: process.env.BENCH_BASE_URL ?? 'http://127.0.0.1:8080' },
      'attachments-port': { type: 'string', default: '3004' },
      sizes: { type: 'string', default: '1,5,20' },
      concurrency: { type: 'string', default: '20' },
      rounds: { type: 'string', default: '2' },
      start: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: node bench/attachments-upload.mjs [--start] [--base URL] [--attachments-port N] [--sizes 1,5,20] [--concurrency N] [--rounds N] [--json]',
    );
    process.exit(0);
  }
  const o = {
    base: values.base.replace(/\/+$/, ''),
    attachmentsPort: Number(values['attachments-port']),
    sizes: values.sizes.split(',').map(Number),
    concurrency: Number(values.concurrency),
    rounds: Number(values.rounds),
    start: values.start,
    json: values.json,
  };
  if (o.sizes.some((s) => !(s > 0))) throw new Error('--sizes must be positive numbers of MB');
  return o;
}

/** The pid listening on a local TCP port, from /proc (Linux): socket inode → the process holding it. */
function pidListeningOn(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A') inodes.add(f[9]);
    }
  }
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1])) return Number(pid);
      }
    } catch {
      // a process that ended or is not ours
    }
  }
  throw new Error(`no process of this user listens on port ${port}`);
}

const rssMiB = (pid) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** Samples the processes' RSS every 50 ms until stopped; returns the peaks. */
function sampleRss(pids) {
  const peaks = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, rssMiB(pid)]));
  const timer = setInterval(() => {
    for (const [k, pid] of Object.entries(pids)) peaks[k] = Math.max(peaks[k], rssMiB(pid));
  }, 50);
  return () => {
    clearInterval(timer);
    return peaks;
  };
}

async function call(base, method, path, body, token) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** A PNG-headed file of `bytes`, streamed as one multipart part in 64 KiB writes. */
function upload(base, path, token, bytes, chunk) {
  const boundary = `bench${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="bench.png"\r\nContent-Type: image/png\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const target = new URL(`${base}${path}`);
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length + bytes + tail.length,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', () => resolve(0));
    req.write(head);
    let left = bytes;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return req.once('drain', pump);
      }
      req.end(tail);
    };
    pump();
  });
}

async function scenario(o, token, pids, sizeMb) {
  const post = await call(
    o.base,
    'POST',
    '/api/posts',
    {
      title: `upload bench ${sizeMb} MB`,
      description: 'files for the upload benchmark',
      tag: 'bench',
    },
    token,
  );
  const bytes = Math.round(sizeMb * MB);
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(chunk);
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, rssMiB(pid)]));
  const stop = sampleRss(pids);
  const latencies = [];
  const failed = {};
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      for (let r = 0; r < o.rounds; r += 1) {
        const t0 = process.hrtime.bigint();
        const status = await upload(o.base, `/api/posts/${post.id}/attachments`, token, bytes, chunk);
        if (status === 201) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        else failed[status] = (failed[status] ?? 0) + 1;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peak = stop();
  await call(o.base, 'DELETE', `/api/posts/${post.id}`, undefined, token); // the cascade removes the files
  latencies.sort((a, b) => a - b);
  return {
    file_mb: sizeMb,
    uploads: latencies.length,
    failed: Object.entries(failed)
      .map(([status, n]) => `${n}×${status}`)
      .join(' '),
    concurrency: o.concurrency,
    mb_per_s: Number(((latencies.length * bytes) / MB / seconds).toFixed(1)),
    p50_ms: Math.round(latencies[Math.floor(latencies.length / 2)] ?? NaN),
    gateway_rss_mib: `${before.gateway.toFixed(0)} → ${peak.gateway.toFixed(0)}`,
    attachments_rss_mib: `${before.attachments.toFixed(0)} → ${peak.attachments.toFixed(0)}`,
  };
}

async function main() {
  const o = options(process.argv);
  let platform;
  let pids;
  if (o.start) {
    const { startPlatform } = await import('../infra/local/platform.mjs');
    // Limits above the largest size, so every scenario measures uploads rather than refusals.
    const cap = String(Math.ceil(Math.max(...o.sizes) + 1) * MB);
    platform = await startPlatform({
      ports: 'free',
      infra: process.env,
      dbSuffix: '_bench',
      logLevel: 'warn',
      extraEnv: {
        attachments: { MAX_FILE_BYTES: cap, MAX_REQUEST_BYTES: cap },
        gateway: { UPLOAD_BODY_LIMIT_BYTES: String(Number(cap) + 2 * MB) },
      },
    });
    o.base = platform.gatewayUrl;
    const pidOf = (name) => platform.children.find((c) => c.name === name).proc.pid;
    pids = { gateway: pidOf('gateway'), attachments: pidOf('attachments') };
  } else {
    pids = {
      gateway: pidListeningOn(Number(new URL(o.base).port || 80)),
      attachments: pidListeningOn(o.attachmentsPort),
    };
  }
  try {
    const username = `bench_${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    await call(o.base, 'POST', '/api/auth/register', {
      name: 'Bench',
      username,
      email: `${username}@bench.test`,
      password,
    });
    const { token } = await call(o.base, 'POST', '/api/auth/login', { username, password });
    console.log(`machine: ${describeMachine()}`);
    console.log(
      `gateway ${o.base} (pid ${pids.gateway}), attachments pid ${pids.attachments}; ${o.concurrency} concurrent uploads, ${o.rounds} each`,
    );
    const rows = [];
    for (const size of o.sizes) rows.push(await scenario(o, token, pids, size));
    console.table(rows);
    if (o.json) console.log(JSON.stringify(rows));
  } finally {
    await platform?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
