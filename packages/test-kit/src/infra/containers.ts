import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { ensureDatabase } from '@mpb/service-kit';
import { GenericContainer, getContainerRuntimeClient, Wait, type StartedTestContainer } from 'testcontainers';
import { configureTestcontainers } from './engine';
import { removeRunContainers, runLabels } from './run-label';

/** The images docker-compose.yml pins; `npm run images:offline` builds stand-ins under these names. */
export const DEFAULT_IMAGES = {
  postgres: 'postgres:15',
  redis: 'redis:7',
  kafka: 'apache/kafka:4.1.1',
  s3proxy: 'andrewgaul/s3proxy:s3proxy-4.1.0',
} as const;

export type InfraImages = Record<keyof typeof DEFAULT_IMAGES, string>;

/** The image names for this run: MPB_POSTGRES_IMAGE, MPB_REDIS_IMAGE, MPB_KAFKA_IMAGE, MPB_S3PROXY_IMAGE. */
export const imagesFromEnv = (env: NodeJS.ProcessEnv): InfraImages => ({
  postgres: env.MPB_POSTGRES_IMAGE || DEFAULT_IMAGES.postgres,
  redis: env.MPB_REDIS_IMAGE || DEFAULT_IMAGES.redis,
  kafka: env.MPB_KAFKA_IMAGE || DEFAULT_IMAGES.kafka,
  s3proxy: env.MPB_S3PROXY_IMAGE || DEFAULT_IMAGES.s3proxy,
});

/** Every service's database, as infra/local/infra.sh creates them (plain, `_test`, `_e2e`). */
export const SERVICE_DATABASES = [
  'mpb_auth',
  'mpb_posts',
  'mpb_comments',
  'mpb_attachments',
  'mpb_metrics',
].flatMap((db) => [db, `${db}_test`, `${db}_e2e`]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The last lines a container wrote (Docker's multiplexed log frames, headers dropped). */
async function logTail(c: StartedTestContainer, lines = 30): Promise<string> {
  try {
    const { dockerode } = (await getContainerRuntimeClient()).container;
    const raw = (await dockerode
      .getContainer(c.getId())
      .logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
    const parts: Buffer[] = [];
    for (let i = 0; i + 8 <= raw.length;) {
      const size = raw.readUInt32BE(i + 4);
      parts.push(raw.subarray(i + 8, i + 8 + size));
      i += 8 + size;
    }
    return Buffer.concat(parts).toString('utf8').trimEnd();
  } catch {
    return '(no log)';
  }
}

/**
 * Retries `attempt` until it resolves or `timeoutMs` passes. Fails at once when the container has
 * exited; either way the error names what failed and ends with the container's last log lines.
 */
async function until<T>(
  what: string,
  c: StartedTestContainer,
  attempt: () => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const { dockerode } = (await getContainerRuntimeClient()).container;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      const state = (await dockerode.getContainer(c.getId()).inspect()).State;
      const why = !state.Running
        ? `${what}: its container exited (code ${state.ExitCode})`
        : Date.now() > deadline
          ? `${what} not ready after ${timeoutMs} ms: ${(err as Error).message}`
          : undefined;
      if (why) throw new Error(`${why}\n--- its last log lines:\n${await logTail(c)}`);
      await sleep(250);
    }
  }
}

/**
 * Publishes ports on 127.0.0.1 only (testcontainers' default is every interface): the Docker engine is
 * on this machine, and a database with a throwaway password has no business on the network.
 */
export class LoopbackContainer extends GenericContainer {
  constructor(
    image: string,
    private readonly loopback: boolean,
  ) {
    super(image);
  }
  protected override async beforeContainerCreated(): Promise<void> {
    if (!this.loopback) return;
    for (const bindings of Object.values(this.hostConfig.PortBindings ?? {}) as Array<
      Array<{ HostIp?: string }>
    >) {
      for (const b of bindings) b.HostIp = '127.0.0.1';
    }
  }
}

/** One RESP PING; resolves when the server answers PONG. */
export function redisPing(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    socket.setTimeout(2000, () => socket.destroy(new Error('no answer')));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      if (d.toString().startsWith('+PONG')) resolve();
      else reject(new Error(`answered ${JSON.stringify(d.toString().trim())}`));
    });
    socket.once('error', reject);
    // Closed without an answer: Docker's port proxy accepts before the server in the container listens.
    socket.once('close', () => reject(new Error('closed without an answer')));
  });
}

export interface StartedInfra {
  /** The addresses for the run, in the keys infra/local/infra.sh prints. */
  env: Record<string, string>;
  containers: StartedTestContainer[];
}

export interface StartOptions {
  images: InfraImages;
  runId: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** Per server, for the start and the first answer (default 180 s: a cold JVM on a busy machine). */
  readyTimeoutMs?: number;
}

/** Kafka's start command: waits for its client address, which is known only once Docker mapped the port. */
export const KAFKA_LISTENER_FILE = '/tmp/mpb-advertised-listeners';
export const KAFKA_WAIT_LINE = 'mpb: waiting for the advertised listener';
export const kafkaCommand = [
  'bash',
  '-c',
  [
    `echo '${KAFKA_WAIT_LINE}'`,
    `until [ -s ${KAFKA_LISTENER_FILE} ]; do sleep 0.1; done`,
    `export KAFKA_ADVERTISED_LISTENERS="$(cat ${KAFKA_LISTENER_FILE})"`,
    // The official image's start script, else the offline stand-in's (infra/docker/offline/kafka).
    'if [ -x /etc/kafka/docker/run ]; then exec /etc/kafka/docker/run; else exec /opt/kafka/bin/run.sh; fi',
  ].join('; '),
];

/**
 * Starts PostgreSQL, Redis, Kafka (KRaft, one node) and s3proxy in containers on random host ports,
 * waits until each answers, creates the services' databases and the bucket, and returns the
 * addresses. On failure every container started so far is removed before the error is thrown.
 */
export async function startInfraContainers(o: StartOptions): Promise<StartedInfra> {
  const { loopback } = configureTestcontainers(o.env);
  const timeout = o.readyTimeoutMs ?? 180_000;
  const labels = runLabels(o.runId);
  const host = loopback ? '127.0.0.1' : undefined;
  const s3 = {
    bucket: o.env.S3_BUCKET || 'mpb-attachments',
    accessKeyId: o.env.S3_ACCESS_KEY_ID || 'mpb-local',
    secretAccessKey: o.env.S3_SECRET_ACCESS_KEY || 'mpb-local-secret',
    region: o.env.S3_REGION || 'us-east-1',
  };
  const pgPassword = randomBytes(12).toString('hex');
  const base = (image: string, name: string) =>
    new LoopbackContainer(image, loopback)
      .withName(`mpb-${o.runId}-${name}`)
      .withLabels(labels)
      .withStartupTimeout(timeout);
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const value = await work();
    o.log(`${name} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return value;
  };

  const started: StartedTestContainer[] = [];
  const keep = (c: StartedTestContainer) => {
    started.push(c);
    return c;
  };
  try {
    const [pg, redis, kafka, s3proxy] = await Promise.all([
      timed('postgres', async () => {
        const c = keep(
          await base(o.images.postgres, 'postgres')
            .withEnvironment({ POSTGRES_USER: 'postgres', POSTGRES_PASSWORD: pgPassword })
            .withExposedPorts(5432)
            // Accepting connections on TCP, past its start-up (both images have pg_isready).
            .withWaitStrategy(Wait.forSuccessfulCommand('pg_isready -q -h 127.0.0.1 -p 5432 -U postgres'))
            .start(),
        );
        const url = `postgres://postgres:${pgPassword}@${host ?? c.getHost()}:${c.getMappedPort(5432)}`;
        await until('postgres', c, () => ensureDatabase(`${url}/${SERVICE_DATABASES[0]}`), timeout);
        for (const db of SERVICE_DATABASES.slice(1)) await ensureDatabase(`${url}/${db}`);
        return { url };
      }),
      timed('redis', async () => {
        const c = keep(
          await base(o.images.redis, 'redis')
            .withCommand(['redis-server', '--save', '', '--appendonly', 'no'])
            .withExposedPorts(6379)
            .start(),
        );
        const h = host ?? c.getHost();
        const port = c.getMappedPort(6379);
        await until('redis', c, () => redisPing(h, port), timeout);
        return { url: `redis://${h}:${port}` };
      }),
      timed('kafka', async () => {
        const c = keep(
          await base(o.images.kafka, 'kafka')
            .withEnvironment(kafkaEnvironment())
            .withCommand(kafkaCommand)
            .withExposedPorts(9092)
            .withWaitStrategy(Wait.forLogMessage(KAFKA_WAIT_LINE))
            .start(),
        );
        const brokers = `${host ?? c.getHost()}:${c.getMappedPort(9092)}`;
        await c.copyContentToContainer([
          { content: `PLAINTEXT://${brokers},BROKER://localhost:9094`, target: KAFKA_LISTENER_FILE },
        ]);
        await until('kafka', c, () => kafkaAnswers(brokers), timeout);
        await until('kafka topics and groups', c, () => kafkaWarm(brokers), timeout);
        return { brokers };
      }),
      timed('s3proxy', async () => {
        const c = keep(
          await base(o.images.s3proxy, 's3proxy')
            .withEnvironment({
              S3PROXY_ENDPOINT: 'http://0.0.0.0:80',
              S3PROXY_AUTHORIZATION: 'aws-v2-or-v4',
              S3PROXY_IDENTITY: s3.accessKeyId,
              S3PROXY_CREDENTIAL: s3.secretAccessKey,
              JCLOUDS_PROVIDER: 'filesystem-nio2',
              JCLOUDS_FILESYSTEM_BASEDIR: '/data',
            })
            .withExposedPorts(80)
            .start(),
        );
        // With the filesystem provider a bucket is a folder under the base folder.
        const made = await c.exec(['mkdir', '-p', `/data/${s3.bucket}`]);
        if (made.exitCode !== 0) throw new Error(`s3proxy: could not create the bucket: ${made.output}`);
        const endpoint = `http://${host ?? c.getHost()}:${c.getMappedPort(80)}`;
        await until('s3proxy', c, () => fetch(endpoint, { signal: AbortSignal.timeout(2000) }), timeout);
        return { endpoint };
      }),
    ]);
    return {
      containers: started,
      env: {
        PG_URL: pg.url,
        REDIS_URL: redis.url,
        // The end-to-end platform keeps its keys in database 2 (e2e/test/global-setup.mjs).
        E2E_REDIS_URL: `${redis.url}/2`,
        KAFKA_BROKERS: kafka.brokers,
        S3_ENDPOINT: s3proxy.endpoint,
        S3_BUCKET: s3.bucket,
        S3_ACCESS_KEY_ID: s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        S3_REGION: s3.region,
      },
    };
  } catch (err) {
    await removeRunContainers(o.runId).catch(() => undefined);
    throw err;
  }
}

/**
 * A KRaft cluster id: 16 random bytes, base64url. Never one that starts with '-', which the storage
 * tool's command line would take for an option (Kafka's own Uuid.randomUuid() skips those too).
 */
export function clusterId(random: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = random().toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The single-node KRaft settings infra/local/kafka-lib.sh writes, as the image's KAFKA_* variables. */
export function kafkaEnvironment(): Record<string, string> {
  return {
    CLUSTER_ID: clusterId(),
    KAFKA_NODE_ID: '1',
    KAFKA_PROCESS_ROLES: 'broker,controller',
    // Clients use PLAINTEXT (the host's mapped port); the broker talks to itself on BROKER.
    KAFKA_LISTENERS: 'PLAINTEXT://:9092,BROKER://:9094,CONTROLLER://:9093',
    KAFKA_INTER_BROKER_LISTENER_NAME: 'BROKER',
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT',
    KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
    KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
    KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
    KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    KAFKA_NUM_PARTITIONS: '3',
    KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'true',
    KAFKA_LOG_DIRS: '/tmp/kraft-combined-logs',
    KAFKA_HEAP_OPTS: '-Xms256m -Xmx512m',
  };
}

/**
 * Takes a new broker through its first topic creation and its first group coordinator (which creates
 * `__consumer_offsets`): for some seconds after it starts, a topic just created can still be unknown
 * to its metadata, which kafkajs does not retry, so the first test to create one could fail.
 */
async function kafkaWarm(brokers: string): Promise<void> {
  const topic = 'mpb.infra.ready';
  const admin = new Kafka({
    clientId: 'mpb-infra-check',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    if (!(await admin.listTopics()).includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    }
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    if (!meta?.partitions.every((p) => p.leader >= 0)) throw new Error(`${topic} has no leader yet`);
    await admin.fetchOffsets({ groupId: topic, topics: [topic] });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Resolves once the broker answers a metadata request and lists itself. */
export async function kafkaAnswers(brokers: string): Promise<void> {
  const admin = new Kafka({
    clientId: 'mpb-infra-check',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 2000,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('no broker listed');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
