// The one place `npm test` and `npm start` get their infrastructure from (infra/local/test.sh, start.sh):
//   node packages/test-kit/dist/infra/cli.js choose                    # prints env|local|containers
//   node packages/test-kit/dist/infra/cli.js run [--stop-local] -- <command> [args...]
// `run` chooses (choose.ts; MPB_INFRA=local|containers forces it), prints the choice, brings the
// infrastructure up, runs the command with the addresses in its environment, and afterwards removes
// the run's containers (also on Ctrl-C or SIGTERM; a reaper process covers a SIGKILL).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chooseInfra, machineProbe, type InfraMode } from './choose';
import { imagesFromEnv, startInfraContainers } from './containers';
import { configureTestcontainers } from './engine';
import { removeLeftovers, removeRunContainers, startReaper } from './run-label';

const REPO_ROOT = path.resolve(__dirname, '../../../..');
const say = (line: string) => process.stderr.write(`[infra] ${line}\n`);

/** `export KEY=value` lines (infra/local/infra.sh env) as an object. */
export function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!.replace(/^'(.*)'$|^"(.*)"$/, '$1$2');
  }
  return env;
}

/** The same Redis server, database `db` (the end-to-end platform keeps its keys in database 2). */
export function redisDatabase(url: string, db: number): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** A command's exit status as a shell reports it: its code, or 128 + the signal's number. */
export const exitStatus = (code: number | null, signal: NodeJS.Signals | null): number =>
  code ?? 128 + (signal ? (os.constants.signals[signal] ?? 1) : 1);

async function bringUp(
  mode: InfraMode,
  stopLocal: boolean,
  onCleanup: (fn: () => Promise<void>) => void,
): Promise<Record<string, string>> {
  const env: Record<string, string> = { MPB_INFRA_MODE: mode };
  if (mode === 'env') {
    if (process.env.REDIS_URL && !process.env.E2E_REDIS_URL) {
      env.E2E_REDIS_URL = redisDatabase(process.env.REDIS_URL, 2);
    }
    return env;
  }
  if (mode === 'local') {
    const infraSh = path.join(REPO_ROOT, 'infra/local/infra.sh');
    const up = spawnSync('bash', [infraSh, 'up'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
    if (up.status !== 0) throw new Error(`infra/local/infra.sh up failed (exit ${up.status})`);
    if (stopLocal) {
      onCleanup(async () => {
        if (process.env.MPB_KEEP_INFRA === '1') return;
        say('stopping Kafka and S3 (set MPB_KEEP_INFRA=1 to keep them)');
        spawnSync('bash', [infraSh, 'down'], { stdio: ['ignore', 'inherit', 'inherit'] });
      });
    }
    return { ...env, ...parseExports(up.stdout) };
  }
  const images = imagesFromEnv(process.env);
  // Docker itself (installed and started when this user may) and the images (pulled, or built offline).
  const ready = spawnSync(
    'bash',
    [path.join(REPO_ROOT, 'infra/docker/infra-images.sh'), ...Object.values(images)],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  if (ready.status !== 0)
    throw new Error('Docker or the infrastructure images are not available (see above)');
  configureTestcontainers(process.env);
  const left = await removeLeftovers();
  if (left > 0) say(`removed ${left} containers an earlier, killed run left`);
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const reaper = startReaper(runId);
  // Containers the tests start themselves (scratch.ts) carry the run's labels too.
  Object.assign(env, { MPB_INFRA_RUN_ID: runId, MPB_INFRA_RUN_PID: String(process.pid) });
  onCleanup(async () => {
    const n = await removeRunContainers(runId);
    say(`removed the run's ${n} containers`);
    reaper.release();
  });
  const t0 = Date.now();
  say(`starting ${Object.values(images).join(', ')} (run ${runId})`);
  const infra = await startInfraContainers({ images, runId, env: process.env, log: (l) => say(l) });
  say(
    `containers ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${infra.env.PG_URL!.replace(/:[^:@/]+@/, ':***@')}, ${infra.env.REDIS_URL}, kafka ${infra.env.KAFKA_BROKERS}, s3 ${infra.env.S3_ENDPOINT}`,
  );
  return { ...env, ...infra.env };
}

async function run(args: string[]): Promise<number> {
  const sep = args.indexOf('--');
  const flags = sep >= 0 ? args.slice(0, sep) : [];
  const command = sep >= 0 ? args.slice(sep + 1) : [];
  if (command.length === 0) throw new Error('usage: cli.js run [--stop-local] -- <command> [args...]');
  const choice = await chooseInfra(
    process.env,
    machineProbe(REPO_ROOT, process.env, (f) => readFileSync(f, 'utf8')),
  );
  say(choice.message);

  const cleanups: Array<() => Promise<void>> = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const fn of cleanups.reverse()) await fn().catch((err: Error) => say(`cleanup: ${err.message}`));
    })());
  const running: { child?: ReturnType<typeof spawn> } = {};
  let signals = 0;
  // The command runs in a process group of its own, so a signal reaches all of it (a shell's children
  // too) and only through here: the first is passed on, a second one kills the group. Without a
  // command yet (still starting), the run's containers go at once.
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    const child = running.child;
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, signals > 1 ? 'SIGKILL' : signal);
      } catch {
        // the group is gone already
      }
      return;
    }
    void cleanup().then(() => process.exit(exitStatus(null, signal)));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  let env: Record<string, string>;
  try {
    env = await bringUp(choice.mode, flags.includes('--stop-local'), (fn) => cleanups.push(fn));
  } catch (err) {
    say(`ERROR: ${(err as Error).message}`);
    await cleanup();
    return 1;
  }
  const proc = spawn(command[0]!, command.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, ...env },
    detached: true,
  });
  running.child = proc;
  const status = await new Promise<number>((resolve) => {
    proc.once('error', (err) => {
      say(`could not run ${command[0]}: ${err.message}`);
      resolve(127);
    });
    proc.once('exit', (code, signal) => resolve(exitStatus(code, signal)));
  });
  await cleanup();
  return status;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'choose') {
    const choice = await chooseInfra(
      process.env,
      machineProbe(REPO_ROOT, process.env, (f) => readFileSync(f, 'utf8')),
    );
    say(choice.message);
    process.stdout.write(`${choice.mode}\n`);
    return 0;
  }
  if (cmd === 'run') return run(rest);
  process.stderr.write('usage: cli.js choose | run [--stop-local] -- <command> [args...]\n');
  return 2;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      say(`ERROR: ${err.message}`);
      process.exit(1);
    },
  );
}
