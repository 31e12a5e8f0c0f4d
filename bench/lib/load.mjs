// A bounded keep-alive load loop with a fixed number of callers, and the figures we print.
import http from 'node:http';
import os from 'node:os';

export function machine() {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'} x${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`;
}

const percentile = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;

/** Calls `request()` (returning {method, path, headers?, body?}) from `concurrency` callers for `seconds`. */
export async function load({ name, base, request, seconds, concurrency }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(base);
  const latencies = [];
  let errors = 0;
  let non2xx = 0;
  const until = Date.now() + seconds * 1000;
  const once = (r) =>
    new Promise((resolve) => {
      const started = process.hrtime.bigint();
      const req = http.request(
        { host: url.hostname, port: url.port, method: r.method, path: r.path, headers: r.headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
            if (res.statusCode < 200 || res.statusCode >= 300) non2xx += 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      req.end(r.body);
    });
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      while (Date.now() < until) await once(request(i));
    }),
  );
  agent.destroy();
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    rps: Math.round(latencies.length / elapsed),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    non2xx,
    requests: latencies.length,
  };
}

export function printTable(rows) {
  const w = Math.max(8, ...rows.map((r) => r.name.length));
  console.log(
    `${'scenario'.padEnd(w)}  ${'req/s'.padStart(6)}  ${'p50 ms'.padStart(7)}  ${'p99 ms'.padStart(7)}  errors  non-2xx`,
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(w)}  ${String(r.rps).padStart(6)}  ${r.p50.toFixed(2).padStart(7)}  ${r.p99.toFixed(2).padStart(7)}  ${String(r.errors).padStart(6)}  ${String(r.non2xx).padStart(7)}`,
    );
  }
}
