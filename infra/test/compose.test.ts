import { readFileSync } from 'node:fs';
import path from 'node:path';
import { composeEnv, interpolate, readCompose } from './compose-file';
import { checkEnv, ROOT, SERVICES } from './service-config';

// docker-compose.yml, checked statically: it names every service, gives each one an environment its
// own config accepts in production mode, and pins its images. `npm run test:compose` runs it for real.

describe('docker-compose.yml', () => {
  const compose = readCompose();
  const infraSh = readFileSync(path.join(ROOT, 'infra/local/infra.sh'), 'utf8');
  const pinned = (key: string) => new RegExp(`^${key}=(.+)$`, 'm').exec(infraSh)?.[1];

  it('has the infrastructure: Kafka in KRaft mode, PostgreSQL, Redis, s3proxy with its bucket', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['kafka', 'postgres', 'redis', 's3proxy', 's3-bucket']),
    );
    expect(compose.services.kafka?.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    // Consumer groups of two replicas split partitions only when a topic has at least two.
    expect(Number(compose.services.kafka?.environment?.KAFKA_NUM_PARTITIONS)).toBeGreaterThanOrEqual(2);
    expect(compose.services.kafka?.environment?.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const sql = readFileSync(path.join(ROOT, 'infra/docker/postgres/create-databases.sql'), 'utf8');
    for (const s of SERVICES.filter((x) => x !== 'gateway'))
      expect(sql).toContain(`CREATE DATABASE mpb_${s};`);
  });

  it.each(SERVICES)('runs %s with an environment its config accepts in production', (service) => {
    const entry = compose.services[service];
    expect(entry).toBeDefined();
    expect(entry!.build?.args?.SERVICE).toBe(service);
    const env = composeEnv(compose, service);
    expect(env.NODE_ENV).toBe('production');
    expect(env.HTTP_PORT).toBe('3000');
    checkEnv(service, env);
  });

  it('publishes the gateway on the loopback only, and nothing else, so every other service scales', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'gateway') expect(s.ports).toEqual(['127.0.0.1:${MPB_GATEWAY_PORT:-8080}:3000']);
      else expect({ name, ports: s.ports }).toEqual({ name, ports: undefined });
    }
  });

  it("gives posts the gateway's TRUST_PROXY, so readers' addresses are found as the gateway finds them", () => {
    expect(compose.services.posts!.environment?.GATEWAY_TRUST_PROXY).toBe(
      compose.services.gateway!.environment?.TRUST_PROXY,
    );
  });

  it('runs two replicas of every backend service and one gateway', () => {
    for (const s of SERVICES)
      expect({ s, replicas: compose.services[s]!.deploy?.replicas }).toEqual({
        s,
        replicas: s === 'gateway' ? 1 : 2,
      });
  });

  it('works with docker-compose 1.29 too: no top-level name key', () => {
    expect(compose.name).toBeUndefined();
  });

  it('pins every image, with the versions infra/local runs and the offline build provides', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect({ name, image: s.image }).toEqual({
        name,
        image: expect.stringMatching(/^[a-z0-9./-]+:[A-Za-z0-9._-]+$/),
      });
      expect(s.image).not.toMatch(/:latest$/);
    }
    for (const s of SERVICES) expect(compose.services[s]!.image).toBe(`mpb/${s}:local`);
    expect(compose.services.kafka!.image).toBe(`apache/kafka:${pinned('KAFKA_VERSION')}`);
    expect(compose.services.s3proxy!.image).toBe(`andrewgaul/s3proxy:s3proxy-${pinned('S3PROXY_VERSION')}`);
    const offline = readFileSync(path.join(ROOT, 'infra/docker/images-offline.sh'), 'utf8');
    for (const image of [
      'postgres:15',
      'redis:7',
      'apache/kafka:$KAFKA_VERSION',
      'andrewgaul/s3proxy:s3proxy-$S3PROXY_VERSION',
    ])
      expect(offline).toContain(`_IMAGE=${image}\n`);
    expect(compose.services.postgres!.image).toBe('postgres:15');
    expect(compose.services.redis!.image).toBe('redis:7');
  });

  it('creates the bucket attachments uses, on the S3 server it uses, before attachments starts', () => {
    const bucket = compose.services['s3-bucket']!;
    const att = compose.services.attachments!;
    expect(bucket.environment?.S3_BUCKET).toBe(att.environment?.S3_BUCKET);
    expect(bucket.environment?.S3_ENDPOINT).toBe(att.environment?.S3_ENDPOINT);
    expect(att.environment?.S3_ENDPOINT).toBe('http://s3proxy:80');
    expect(att.depends_on?.['s3-bucket']?.condition).toBe('service_completed_successfully');
  });

  it('points the gateway at every service it routes to', () => {
    const env = compose.services.gateway!.environment ?? {};
    for (const s of SERVICES.filter((x) => !['gateway', 'attachments'].includes(x))) {
      expect(env[`${s.toUpperCase()}_URL`]).toBe(`http://${s}:3000`);
    }
  });
});

// docker-compose.ha.yml laid over docker-compose.yml (npm run compose:up:ha; npm run test:scale runs it).
describe('docker-compose.ha.yml', () => {
  const base = readCompose();
  const ha = readCompose('docker-compose.ha.yml');
  const nodes = ['kafka-1', 'kafka-2', 'kafka-3'];

  it('runs three KRaft nodes, each a controller and a broker of one cluster, with replicated internal topics', () => {
    const voters = nodes.map((n, i) => `${i + 1}@${n}:9093`).join(',');
    nodes.forEach((n, i) => {
      const env = ha.services[n]?.environment ?? {};
      expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
      expect(Number(env.KAFKA_NODE_ID)).toBe(i + 1);
      expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(voters);
      expect(env.KAFKA_ADVERTISED_LISTENERS).toBe(`PLAINTEXT://${n}:9092`);
      expect(env.CLUSTER_ID).toBe(ha.services['kafka-1']?.environment?.CLUSTER_ID);
      expect(Number(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR)).toBe(3);
      expect(Number(env.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR)).toBe(2);
      expect(ha.services[n]?.image).toBe(base.services.kafka?.image);
    });
  });

  it.each(['auth', 'posts', 'comments', 'attachments', 'metrics'])(
    'gives %s the three brokers, RF 3, min ISR 2 and the idempotent producer, in an environment its config accepts',
    (service) => {
      const env = {
        ...composeEnv(base, service),
        ...Object.fromEntries(
          Object.entries(ha.services[service]?.environment ?? {}).map(([k, v]) => [k, interpolate(v)]),
        ),
      };
      expect(env.KAFKA_BROKERS).toBe(nodes.map((n) => `${n}:9092`).join(','));
      expect(env).toMatchObject({
        KAFKA_REPLICATION_FACTOR: '3',
        KAFKA_MIN_INSYNC_REPLICAS: '2',
        KAFKA_IDEMPOTENT_PRODUCER: 'true',
      });
      checkEnv(service, env);
    },
  );
});
