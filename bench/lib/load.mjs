// The load loop and the figures every benchmark prints: `concurrency` callers on keep-alive
// connections for a bounded time after a short unmeasured warm-up; only 2xx answers count towards
// requests/s and latency, failures and other statuses are counted apart.
import http from 'node:http';
import os from 'node:os';

/** `machine()` as one line, for the top of a report. */
export function describeMachine() {
  const m = machine();
  return `${m.cpu} x${m.cpus}, ${m.memory_gib} GiB, node ${m.node}, ${m.platform}`;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** `concurrency` loops, each on its own keep-alive connection, for `seconds`. */
export async function load({ name, base, paths, request, seconds, concurrency }) {
  let rotation = 0;
  const nextRequest = request ?? (() => ({ method: 'GET', path: paths[rotation++ % paths.length] }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const target = new URL(base);
  const latencies = [];
  let errors = 0;
  let non2xx = 0;
  const once = ({ method, path, headers }) =>
    new Promise((resolve) => {
      const req = http.request(
        { host: target.hostname, port: target.port, path, method, headers, agent },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => resolve(res.statusCode));
          res.on('error', () => resolve(0));
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(0));
      req.end();
    });

  // A short warm-up, not measured: connections opened, JIT warmed, caches filled.
  const warmUntil = Date.now() + Math.min(1000, seconds * 100);
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      while (Date.now() < warmUntil) await once(nextRequest(i));
    }),
  );

  const started = process.hrtime.bigint();
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      while (Date.now() < deadline) {
        const t0 = process.hrtime.bigint();
        const status = await once(nextRequest(i));
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (status === 0) errors += 1;
        else if (status < 200 || status >= 300) non2xx += 1;
        else latencies.push(ms);
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    name,
    requests: latencies.length + errors + non2xx,
    rps: Math.round(latencies.length / elapsed),
    p50_ms: Number(percentile(latencies, 50).toFixed(2)),
    p99_ms: Number(percentile(latencies, 99).toFixed(2)),
    errors,
    non_2xx: non2xx,
  };
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    memory_gib: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

export function printTable(rows) {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'requests'];
  const lines = rows.map((r) =>
    [r.name, r.rps, r.p50_ms, r.p99_ms, r.errors, r.non_2xx, r.requests].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
}
