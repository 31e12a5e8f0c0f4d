import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { MetricsConfig } from '../../src/config';

const SERVICE_DIR = path.resolve(__dirname, '../..');
const MAIN = path.join(SERVICE_DIR, 'dist/src/main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** The built service, rebuilt when a source file is newer than it (CI builds before testing). */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(MAIN).mtimeMs;
  } catch {
    built = 0;
  }
  const sources = Math.max(
    newestSource(path.join(SERVICE_DIR, 'src')),
    newestSource(path.join(SERVICE_DIR, 'migrations')),
  );
  if (built >= sources) return;
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: SERVICE_DIR,
    stdio: 'inherit',
  });
}

export interface ChildConsumer {
  process: ChildProcess;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  output(): string;
}

/** `node dist/src/main.js` with METRICS_ROLE=consumer on the test's topics, database and Redis. */
export function spawnConsumer(config: MetricsConfig, env: Record<string, string> = {}): ChildConsumer {
  let output = '';
  const child = spawn(process.execPath, [MAIN], {
    cwd: SERVICE_DIR,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      METRICS_ROLE: 'consumer',
      HTTP_PORT: '0',
      DATABASE_URL: config.DATABASE_URL,
      REDIS_URL: config.REDIS_URL,
      KAFKA_BROKERS: config.KAFKA_BROKERS,
      METRICS_REDIS_PREFIX: config.METRICS_REDIS_PREFIX,
      METRICS_TOPIC: config.METRICS_TOPIC,
      POSTS_TOPIC: config.POSTS_TOPIC,
      METRICS_CONSUMER_GROUP: config.METRICS_CONSUMER_GROUP,
      POSTS_CONSUMER_GROUP: config.POSTS_CONSUMER_GROUP,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      METRICS_FETCH_MIN_BYTES: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return { process: child, exited, output: () => output };
}
