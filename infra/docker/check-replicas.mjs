// Runs inside a container on the compose network (infra/docker/test-compose.sh starts it):
//   node check-replicas.mjs snapshot <replicas.json>              → per-replica request counts (stdout)
//   node check-replicas.mjs check <replicas.json> <baseline.json> → one line per check, then a JSON summary
// replicas.json: [{ "service": "posts", "name": "mpb_posts_1", "ip": "172.18.0.7" }, ...]
// A replica served traffic when its own /metrics counts more HTTP requests (health and metrics
// routes aside) than before the run; a gRPC callee's replicas each handled calls when the service
// handled any; every consumer group of a replicated service has a member per replica, each with
// partitions of its own.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [mode, replicasFile, baselineFile] = process.argv.slice(2);
const replicas = JSON.parse(readFileSync(replicasFile, 'utf8'));
const OWN = new Set(['/livez', '/readyz', '/metrics', '/health']);

function sum(text, metric, keep) {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (keep(labels)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function counts() {
  const out = {};
  for (const r of replicas) {
    const res = await fetch(`http://${r.ip}:3000/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    out[r.name] = {
      http: sum(text, 'http_request_duration_seconds_count', (l) => !OWN.has(l.route)),
      grpc: sum(text, 'grpc_server_handling_seconds_count', (l) => !/grpc\.health/.test(l.method ?? '')),
    };
  }
  return out;
}

async function groups() {
  const require = createRequire('/repo/packages/kafka/package.json');
  const { Kafka, AssignerProtocol, logLevel } = require('kafkajs');
  const admin = new Kafka({
    clientId: 'check-replicas',
    brokers: ['kafka:9092'],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const ids = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => !g.startsWith('check-'));
    const { groups: described } = await admin.describeGroups(ids);
    return described.map((g) => ({
      group: g.groupId,
      state: g.state,
      members: g.members.map((m) => {
        const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        return {
          host: m.clientHost.replace(/^\//, ''),
          partitions: Object.values(a?.assignment ?? {}).flat().length,
        };
      }),
    }));
  } finally {
    await admin.disconnect();
  }
}

if (mode === 'snapshot') {
  process.stdout.write(JSON.stringify(await counts()));
} else if (mode === 'check') {
  const before = JSON.parse(readFileSync(baselineFile, 'utf8'));
  const after = await counts();
  let passed = 0;
  let failed = 0;
  const report = (ok, what) => {
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (ok) passed += 1;
    else failed += 1;
  };
  const services = [...new Set(replicas.map((r) => r.service))];
  for (const service of services) {
    const mine = replicas.filter((r) => r.service === service);
    const d = mine.map((r) => ({
      name: r.name,
      http: after[r.name].http - (before[r.name]?.http ?? 0),
      grpc: after[r.name].grpc - (before[r.name]?.grpc ?? 0),
    }));
    report(
      d.every((x) => x.http > 0),
      `${service}: every replica served HTTP through the gateway (${d.map((x) => `${x.name}=${x.http}`).join(', ')})`,
    );
    if (d.some((x) => x.grpc > 0))
      report(
        d.every((x) => x.grpc > 0),
        `${service}: every replica handled gRPC calls (${d.map((x) => `${x.name}=${x.grpc}`).join(', ')})`,
      );
  }
  const byIp = new Map(replicas.map((r) => [r.ip, r]));
  for (const g of await groups()) {
    const owners = g.members.map((m) => byIp.get(m.host));
    const service = owners[0]?.service;
    const count = replicas.filter((r) => r.service === service).length;
    if (!service || count < 2) continue;
    report(
      g.state === 'Stable' && g.members.length === count && g.members.every((m) => m.partitions > 0),
      `consumer group ${g.group} (${service}): ${g.members.length} members, partitions ${g.members.map((m) => m.partitions).join('/')}`,
    );
  }
  console.log(JSON.stringify({ passed, failed }));
}
