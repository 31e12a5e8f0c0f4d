// A second, small platform for view-every-read.test.ts: every service of the e2e platform again, with
// metrics counting every read (VIEW_DEDUP_SECONDS=0), its own databases, topics and Redis key prefixes.
// Run as a child process (jest's test files cannot import ESM): prints one JSON line with the gateway
// URL once everything is ready, and stops the services on SIGTERM.
import { startPlatform } from '../../infra/local/platform.mjs';

const suffix = `${process.env.E2E_DB_SUFFIX || '_e2e'}_every`;
const topicPrefix = `${process.env.E2E_TOPIC_PREFIX || 'e2e.'}every.`;
const logs = [];

const platform = await startPlatform({
  ports: 'free',
  infra: { ...process.env, REDIS_URL: process.env.E2E_REDIS_URL ?? 'redis://127.0.0.1:6379/2' },
  dbSuffix: suffix,
  topicPrefix,
  logLevel: 'warn',
  readyTimeoutMs: 90_000,
  onLog: (name, line) => {
    logs.push(`${name} | ${line}`);
    if (logs.length > 200) logs.shift();
  },
  extraEnv: {
    gateway: { RATE_LIMIT_KEY_PREFIX: 'gateway-every:', RATE_LIMIT_AUTH_MAX: '10000' },
    metrics: { VIEW_DEDUP_SECONDS: '0', METRICS_REDIS_PREFIX: 'metrics-every:' },
  },
}).catch((err) => {
  process.stderr.write(`every-read platform failed: ${err.message}\n${logs.slice(-30).join('\n')}\n`);
  process.exit(1);
});

process.stdout.write(`${JSON.stringify({ gatewayUrl: platform.gatewayUrl })}\n`);
let stopping = false;
process.on('SIGTERM', async () => {
  if (stopping) return;
  stopping = true;
  await platform.stop();
  process.exit(0);
});
