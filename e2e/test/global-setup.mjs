// Starts the built services on free ports against the real infrastructure, with `_e2e` databases.
// Addresses come from the environment (npm test exports them after starting the infrastructure).
import { generateKeyPairSync } from 'node:crypto';
import { startPlatform } from '../../infra/local/platform.mjs';
import { startTraceCollector } from './trace-collector.mjs';

// Overridable so two checkouts on one machine can run the suite at once without sharing state.
const E2E_TOPIC_PREFIX = process.env.E2E_TOPIC_PREFIX || 'e2e.';
const E2E_DB_SUFFIX = process.env.E2E_DB_SUFFIX || '_e2e';

export default async function globalSetup() {
  if (process.env.E2E_GATEWAY_URL) return; // a running deployment was given: test that instead
  const logs = [];
  // Auth signs with a key the tests know, so they can forge tokens that differ in one detail only.
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  });
  process.env.E2E_SIGNING_KEY_PEM = signingKey;
  // Every service exports its spans to a collector stand-in the tests can ask (tracing.test.ts).
  const collector = await startTraceCollector();
  globalThis.__MPB_TRACE_COLLECTOR__ = collector;
  process.env.E2E_TRACE_COLLECTOR_URL = collector.url;
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.url;
  process.env.OTEL_BSP_SCHEDULE_DELAY = '200';
  const platform = await startPlatform({
    ports: 'free',
    // Redis database 2 keeps the e2e platform's keys apart from a platform `npm start` runs beside it.
    infra: { ...process.env, REDIS_URL: process.env.E2E_REDIS_URL ?? 'redis://127.0.0.1:6379/2' },
    dbSuffix: E2E_DB_SUFFIX,
    // Its own topics and consumer groups: a platform `npm start` runs beside it shares the broker.
    topicPrefix: E2E_TOPIC_PREFIX,
    logLevel: 'warn',
    onLog: (name, line) => {
      logs.push(`${name} | ${line}`);
      if (logs.length > 500) logs.shift();
    },
    extraEnv: {
      gateway: { RATE_LIMIT_AUTH_MAX: '10000', UPSTREAM_TIMEOUT_MS: '5000' },
      auth: { BCRYPT_COST: '10', SIGNING_KEY_PEM: signingKey },
      // The default window, stated so a VIEW_DEDUP_SECONDS in the shell cannot change what the
      // suite checks (view-dedup.test.ts; view-every-read.test.ts starts a platform with 0).
      metrics: { VIEW_DEDUP_SECONDS: '1800' },
    },
  }).catch((err) => {
    process.stderr.write(`\n[e2e] platform failed to start: ${err.message}\n${logs.slice(-40).join('\n')}\n`);
    throw err;
  });
  globalThis.__MPB_PLATFORM__ = platform;
  globalThis.__MPB_PLATFORM_LOGS__ = logs;
  process.env.E2E_GATEWAY_URL = platform.gatewayUrl;
  process.env.E2E_SERVICE_PORTS = JSON.stringify(platform.ports);
  process.env.E2E_KAFKA_TOPIC_PREFIX = E2E_TOPIC_PREFIX;
}
