import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * Where the tests and `npm start` get PostgreSQL, Redis, Kafka and the S3 server from:
 * - `env`: every address is in the environment already (PG_URL, REDIS_URL, KAFKA_BROKERS, S3_ENDPOINT),
 * - `local`: the machine's own servers (`infra/local/infra.sh up` checks and starts them),
 * - `containers`: Docker containers started for this run (testcontainers) and removed at its end.
 */
export type InfraMode = 'env' | 'local' | 'containers';

export interface InfraChoice {
  mode: InfraMode;
  /** One line saying what was chosen and why; printed before anything starts. */
  message: string;
}

/** The addresses a run reads from the environment, as infra/local/infra.sh prints them. */
export const ADDRESS_KEYS = ['PG_URL', 'REDIS_URL', 'KAFKA_BROKERS', 'S3_ENDPOINT'] as const;

export interface LocalPart {
  ok: boolean;
  /** What was found, or what is missing. */
  detail: string;
}

/** Whether this machine can run each server itself (as infra/local/infra.sh does). */
export interface LocalProbe {
  postgres: LocalPart;
  redis: LocalPart;
  kafkaAndS3: LocalPart;
}

/**
 * Decides where the servers come from. MPB_INFRA=local|containers forces a choice. Unset, the
 * addresses in the environment are used when all of them are given; otherwise the machine's own
 * servers when it has them (running, or installed so infra.sh can start them); otherwise containers.
 * `probe` is called only when the machine has to be looked at.
 */
export async function chooseInfra(
  env: NodeJS.ProcessEnv,
  probe: () => Promise<LocalProbe>,
): Promise<InfraChoice> {
  const forced = (env.MPB_INFRA ?? '').trim();
  if (forced === 'containers') {
    const ignored = ADDRESS_KEYS.filter((k) => env[k]);
    return {
      mode: 'containers',
      message:
        'containers (MPB_INFRA=containers): PostgreSQL, Redis, Kafka and S3 in Docker, on random local ports' +
        (ignored.length ? `; ${ignored.join(', ')} from the environment not used` : ''),
    };
  }
  if (forced === 'local') {
    return { mode: 'local', message: "the machine's own servers (MPB_INFRA=local)" };
  }
  if (forced !== '') throw new Error(`MPB_INFRA must be "local" or "containers" (or unset), not "${forced}"`);
  if (ADDRESS_KEYS.every((k) => env[k])) {
    return {
      mode: 'env',
      message: `the addresses in the environment (${ADDRESS_KEYS.join(', ')}); nothing started`,
    };
  }
  const local = await probe();
  const parts = [local.postgres, local.redis, local.kafkaAndS3];
  if (parts.every((p) => p.ok)) {
    return {
      mode: 'local',
      message: `the machine's own servers (MPB_INFRA unset: ${parts.map((p) => p.detail).join(', ')}; MPB_INFRA=containers uses containers)`,
    };
  }
  const missing = parts.filter((p) => !p.ok).map((p) => p.detail);
  return {
    mode: 'containers',
    message: `containers (MPB_INFRA unset: ${missing.join(', ')}; MPB_INFRA=local forces the local servers)`,
  };
}

export interface ProbeDeps {
  /** True when something accepts TCP connections on 127.0.0.1:port. */
  listening: (port: number) => Promise<boolean>;
  /** True when the command is an executable file on PATH. */
  onPath: (command: string) => boolean;
  /** True when the path exists. */
  exists: (file: string) => boolean;
  /** Kafka and s3proxy versions and the folder their jars are cached in (infra/local/infra.sh). */
  kafkaJar: string;
  s3proxyJar: string;
}

/** Looks at this machine the way infra/local/infra.sh would use it. */
export async function probeLocal(d: ProbeDeps): Promise<LocalProbe> {
  const [pgUp, redisUp] = await Promise.all([d.listening(5432), d.listening(6379)]);
  const postgres: LocalPart = !d.onPath('psql')
    ? { ok: false, detail: 'no local PostgreSQL (psql not found)' }
    : pgUp
      ? { ok: true, detail: 'PostgreSQL on 127.0.0.1:5432' }
      : d.onPath('pg_ctlcluster') && d.exists('/etc/postgresql')
        ? { ok: true, detail: 'PostgreSQL installed (started by infra.sh)' }
        : { ok: false, detail: 'no local PostgreSQL (nothing on 127.0.0.1:5432, no cluster to start)' };
  const redis: LocalPart = redisUp
    ? { ok: true, detail: 'Redis on 127.0.0.1:6379' }
    : d.onPath('redis-server')
      ? { ok: true, detail: 'redis-server installed' }
      : { ok: false, detail: 'no local Redis (nothing on 127.0.0.1:6379, no redis-server)' };
  const jars = d.exists(d.kafkaJar) && d.exists(d.s3proxyJar);
  const kafkaAndS3: LocalPart = !d.onPath('java')
    ? { ok: false, detail: 'no Java for Kafka and S3 (java not found)' }
    : jars || d.onPath('mvn')
      ? { ok: true, detail: `Java for Kafka and S3 (${jars ? 'jars cached' : 'fetched by Maven'})` }
      : { ok: false, detail: 'no Kafka and S3 jars (not cached, no mvn to fetch them)' };
  return { postgres, redis, kafkaAndS3 };
}

export function tcpListening(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function onPath(command: string, pathVar = process.env.PATH ?? ''): boolean {
  return pathVar
    .split(path.delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(path.join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** The Kafka and s3proxy versions infra/local/infra.sh pins, read from it. */
export function pinnedVersions(
  repoRoot: string,
  read: (file: string) => string,
): { kafka: string; s3proxy: string } {
  const text = read(path.join(repoRoot, 'infra/local/infra.sh'));
  const pick = (name: string) => {
    const m = new RegExp(`^${name}=(\\S+)$`, 'm').exec(text);
    if (!m) throw new Error(`${name} not found in infra/local/infra.sh`);
    return m[1]!;
  };
  return { kafka: pick('KAFKA_VERSION'), s3proxy: pick('S3PROXY_VERSION') };
}

/** The real probe: this machine's ports, PATH and jar cache (MPB_CACHE_DIR, as infra/local/lib.sh). */
export function machineProbe(repoRoot: string, env: NodeJS.ProcessEnv, read: (f: string) => string) {
  const v = pinnedVersions(repoRoot, read);
  const cache = env.MPB_CACHE_DIR ?? path.join(env.HOME ?? '/root', '.cache/mpb-infra');
  return () =>
    probeLocal({
      listening: (port) => tcpListening(port),
      onPath: (c) => onPath(c, env.PATH),
      exists: (f) => existsSync(f) && (f !== '/etc/postgresql' || readdirSync(f).length > 0),
      kafkaJar: path.join(cache, `kafka-${v.kafka}/libs/kafka_2.13-${v.kafka}.jar`),
      s3proxyJar: path.join(cache, `s3proxy-${v.s3proxy}/s3proxy-${v.s3proxy}-jar-with-dependencies.jar`),
    });
}
