import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  chooseInfra,
  pinnedVersions,
  probeLocal,
  type LocalProbe,
  type ProbeDeps,
} from '../src/infra/choose';
import { clusterId, DEFAULT_IMAGES, imagesFromEnv, SERVICE_DATABASES } from '../src/infra/containers';
import { exitStatus, parseExports, redisDatabase } from '../src/infra/cli';
import { configureTestcontainers } from '../src/infra/engine';
import { ownerAlive } from '../src/infra/run-label';

const ROOT = path.resolve(__dirname, '../../..');
const read = (f: string) => readFileSync(f, 'utf8');

const part = (ok: boolean, detail: string) => ({ ok, detail });
const everythingLocal: LocalProbe = {
  postgres: part(true, 'PostgreSQL on 127.0.0.1:5432'),
  redis: part(true, 'redis-server installed'),
  kafkaAndS3: part(true, 'Java for Kafka and S3 (jars cached)'),
};
const ADDRESSES = {
  PG_URL: 'postgres://postgres@db:5432',
  REDIS_URL: 'redis://cache:6379',
  KAFKA_BROKERS: 'kafka:9092',
  S3_ENDPOINT: 'http://s3:9000',
};

/** A probe that counts its calls, answering `result`. */
const probeOf = (result: LocalProbe) => {
  const fn = jest.fn(async () => result);
  return fn;
};

describe('chooseInfra', () => {
  it('starts containers when MPB_INFRA=containers, without looking at the machine', async () => {
    const probe = probeOf(everythingLocal);
    const choice = await chooseInfra({ MPB_INFRA: 'containers' }, probe);
    expect(choice.mode).toBe('containers');
    expect(choice.message).toMatch(/^containers \(MPB_INFRA=containers\)/);
    expect(probe).not.toHaveBeenCalled();
  });

  it('says which addresses from the environment a forced container run leaves unused', async () => {
    const choice = await chooseInfra(
      { MPB_INFRA: 'containers', PG_URL: 'x', KAFKA_BROKERS: 'y' },
      probeOf(everythingLocal),
    );
    expect(choice.mode).toBe('containers');
    expect(choice.message).toMatch(/PG_URL, KAFKA_BROKERS from the environment not used$/);
  });

  it('uses the local servers when MPB_INFRA=local, even with every address given', async () => {
    const probe = probeOf(everythingLocal);
    const choice = await chooseInfra({ MPB_INFRA: 'local', ...ADDRESSES }, probe);
    expect(choice).toEqual({ mode: 'local', message: "the machine's own servers (MPB_INFRA=local)" });
    expect(probe).not.toHaveBeenCalled();
  });

  it('refuses any other MPB_INFRA value, naming it', async () => {
    await expect(chooseInfra({ MPB_INFRA: 'docker' }, probeOf(everythingLocal))).rejects.toThrow(
      'MPB_INFRA must be "local" or "containers" (or unset), not "docker"',
    );
  });

  it('takes every address from the environment when all four are given, starting nothing', async () => {
    const probe = probeOf(everythingLocal);
    const choice = await chooseInfra({ ...ADDRESSES }, probe);
    expect(choice.mode).toBe('env');
    expect(choice.message).toBe(
      'the addresses in the environment (PG_URL, REDIS_URL, KAFKA_BROKERS, S3_ENDPOINT); nothing started',
    );
    expect(probe).not.toHaveBeenCalled();
  });

  it('looks at the machine when only some addresses are given', async () => {
    const probe = probeOf(everythingLocal);
    const { mode } = await chooseInfra({ PG_URL: ADDRESSES.PG_URL, MPB_INFRA: '' }, probe);
    expect(mode).toBe('local');
    expect(probe).toHaveBeenCalledTimes(1);
  });

  it('uses the local servers when the machine has all of them, saying what it found', async () => {
    const choice = await chooseInfra({}, probeOf(everythingLocal));
    expect(choice).toEqual({
      mode: 'local',
      message:
        "the machine's own servers (MPB_INFRA unset: PostgreSQL on 127.0.0.1:5432, redis-server installed, " +
        'Java for Kafka and S3 (jars cached); MPB_INFRA=containers uses containers)',
    });
  });

  it('starts containers when any local server is missing, naming what is missing', async () => {
    const choice = await chooseInfra(
      {},
      probeOf({
        ...everythingLocal,
        postgres: part(false, 'no local PostgreSQL (psql not found)'),
        kafkaAndS3: part(false, 'no Java for Kafka and S3 (java not found)'),
      }),
    );
    expect(choice).toEqual({
      mode: 'containers',
      message:
        'containers (MPB_INFRA unset: no local PostgreSQL (psql not found), no Java for Kafka and S3 ' +
        '(java not found); MPB_INFRA=local forces the local servers)',
    });
  });
});

describe('probeLocal', () => {
  /** A machine with everything installed and nothing running; `o` changes one detail. */
  const machine = (o: { listening?: number[]; missing?: string[]; files?: string[] } = {}): ProbeDeps => {
    const files = o.files ?? ['/etc/postgresql', '/cache/kafka.jar', '/cache/s3proxy.jar'];
    return {
      listening: async (port) => (o.listening ?? []).includes(port),
      onPath: (c) => !(o.missing ?? []).includes(c),
      exists: (f) => files.includes(f),
      kafkaJar: '/cache/kafka.jar',
      s3proxyJar: '/cache/s3proxy.jar',
    };
  };

  it('counts servers that are installed but stopped as local: infra.sh starts them', async () => {
    const p = await probeLocal(machine());
    expect(p.postgres).toEqual(part(true, 'PostgreSQL installed (started by infra.sh)'));
    expect(p.redis).toEqual(part(true, 'redis-server installed'));
    expect(p.kafkaAndS3).toEqual(part(true, 'Java for Kafka and S3 (jars cached)'));
  });

  it('counts servers already listening on their local ports', async () => {
    const p = await probeLocal(
      machine({ listening: [5432, 6379], missing: ['pg_ctlcluster', 'redis-server'] }),
    );
    expect(p.postgres).toEqual(part(true, 'PostgreSQL on 127.0.0.1:5432'));
    expect(p.redis).toEqual(part(true, 'Redis on 127.0.0.1:6379'));
  });

  it('finds no PostgreSQL without psql, or with neither a server listening nor a cluster to start', async () => {
    expect((await probeLocal(machine({ listening: [5432], missing: ['psql'] }))).postgres.ok).toBe(false);
    const none = await probeLocal(machine({ files: ['/cache/kafka.jar', '/cache/s3proxy.jar'] }));
    expect(none.postgres).toEqual(
      part(false, 'no local PostgreSQL (nothing on 127.0.0.1:5432, no cluster to start)'),
    );
  });

  it('finds no Redis with nothing on 6379 and no redis-server', async () => {
    expect((await probeLocal(machine({ missing: ['redis-server'] }))).redis).toEqual(
      part(false, 'no local Redis (nothing on 127.0.0.1:6379, no redis-server)'),
    );
  });

  it('needs Java, and the jars cached or Maven to fetch them, for Kafka and S3', async () => {
    expect((await probeLocal(machine({ missing: ['java'] }))).kafkaAndS3.ok).toBe(false);
    const fetchable = await probeLocal(machine({ files: ['/etc/postgresql'] }));
    expect(fetchable.kafkaAndS3).toEqual(part(true, 'Java for Kafka and S3 (fetched by Maven)'));
    const neither = await probeLocal(machine({ files: ['/etc/postgresql'], missing: ['mvn'] }));
    expect(neither.kafkaAndS3).toEqual(
      part(false, 'no Kafka and S3 jars (not cached, no mvn to fetch them)'),
    );
  });
});

describe('container images and databases', () => {
  it('default to the images docker-compose.yml pins, so the offline stand-ins serve both', () => {
    const compose = read(path.join(ROOT, 'docker-compose.yml'));
    for (const [service, image] of Object.entries(DEFAULT_IMAGES)) {
      const m = new RegExp(`^  ${service}:\\n(?:    .*\\n)*?    image: (\\S+)$`, 'm').exec(compose);
      expect([service, m?.[1]]).toEqual([service, image]);
    }
  });

  it('run the Kafka and s3proxy versions infra/local runs', () => {
    const v = pinnedVersions(ROOT, read);
    expect(DEFAULT_IMAGES.kafka).toBe(`apache/kafka:${v.kafka}`);
    expect(DEFAULT_IMAGES.s3proxy).toBe(`andrewgaul/s3proxy:s3proxy-${v.s3proxy}`);
  });

  it('are named by MPB_*_IMAGE when set', () => {
    expect(imagesFromEnv({ MPB_POSTGRES_IMAGE: 'reg.example/pg:15', MPB_KAFKA_IMAGE: '' })).toEqual({
      ...DEFAULT_IMAGES,
      postgres: 'reg.example/pg:15',
    });
  });

  it("give Kafka a cluster id of 22 base64url characters that never starts with '-'", () => {
    const draws = [Buffer.alloc(16, 0xfb), Buffer.alloc(16, 0x01)]; // the first encodes as '-_v7...'
    const id = clusterId(() => draws.shift()!);
    expect(id).toBe(Buffer.alloc(16, 0x01).toString('base64url'));
    expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });

  it('create the databases infra/local/infra.sh creates', () => {
    const infraSh = read(path.join(ROOT, 'infra/local/infra.sh'));
    const base = /^DATABASES=\(([^)]*)\)$/m.exec(infraSh)![1]!.split(/\s+/);
    expect(infraSh).toContain('DATABASES+=("${DATABASES[@]/%/_test}" "${DATABASES[@]/%/_e2e}")');
    const expected = [...base, ...base.map((d) => `${d}_test`), ...base.map((d) => `${d}_e2e`)];
    expect([...SERVICE_DATABASES].sort()).toEqual(expected.sort());
  });
});

describe('infra runner helpers', () => {
  it('reads the export lines infra.sh prints', () => {
    expect(parseExports('export KAFKA_BROKERS=127.0.0.1:9092\nnoise\nexport S3_BUCKET="b"\n')).toEqual({
      KAFKA_BROKERS: '127.0.0.1:9092',
      S3_BUCKET: 'b',
    });
  });

  it('points the end-to-end platform at database 2 of the same Redis', () => {
    expect(redisDatabase('redis://127.0.0.1:6391', 2)).toBe('redis://127.0.0.1:6391/2');
    expect(redisDatabase('redis://:pw@cache:6379/0', 2)).toBe('redis://:pw@cache:6379/2');
  });

  it('reports a command killed by a signal as a shell does', () => {
    expect(exitStatus(3, null)).toBe(3);
    expect(exitStatus(null, 'SIGINT')).toBe(130);
    expect(exitStatus(null, 'SIGKILL')).toBe(137);
  });

  it("treats a run's containers as owned only while their runner process is alive", () => {
    const cmdlines: Record<number, string> = {
      10: 'node /repo/packages/test-kit/dist/infra/cli.js run -- bash x',
      11: 'node something-else.js',
    };
    const cmdline = (pid: number) => cmdlines[pid] ?? '';
    expect(ownerAlive(10, cmdline)).toBe(true);
    expect(ownerAlive(11, cmdline)).toBe(false); // the pid was reused by another program
    expect(ownerAlive(12, cmdline)).toBe(false); // gone
    expect(ownerAlive(NaN, cmdline)).toBe(false); // no label
  });
});

describe('configureTestcontainers', () => {
  it('publishes on 127.0.0.1 and turns Ryuk off with a local engine, and children inherit that', () => {
    const env: NodeJS.ProcessEnv = { DOCKER_HOST: 'unix:///var/run/docker.sock' };
    expect(configureTestcontainers(env)).toEqual({ loopback: true });
    expect(env).toMatchObject({
      TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1',
      TESTCONTAINERS_RYUK_DISABLED: 'true',
    });
    // A command the runner started gets this environment: the override is the runner's, not a user's.
    expect(configureTestcontainers({ ...env })).toEqual({ loopback: true });
    expect(configureTestcontainers({})).toEqual({ loopback: true });
  });

  it('leaves the ports to testcontainers with a remote engine or a host the user named', () => {
    const remote: NodeJS.ProcessEnv = { DOCKER_HOST: 'tcp://docker.example:2376' };
    expect(configureTestcontainers(remote)).toEqual({ loopback: false });
    expect(remote.TESTCONTAINERS_HOST_OVERRIDE).toBeUndefined();
    expect(configureTestcontainers({ TESTCONTAINERS_HOST_OVERRIDE: '172.17.0.1' })).toEqual({
      loopback: false,
    });
  });

  it('keeps Ryuk when the user turned it on', () => {
    const env: NodeJS.ProcessEnv = { TESTCONTAINERS_RYUK_DISABLED: 'false' };
    configureTestcontainers(env);
    expect(env.TESTCONTAINERS_RYUK_DISABLED).toBe('false');
  });
});

describe('cli.js choose (built)', () => {
  const cli = path.join(ROOT, 'packages/test-kit/dist/infra/cli.js');
  const run = promisify(execFile);

  it('prints the choice and the reason, and refuses a bad MPB_INFRA with exit 1', async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const forced = await run(process.execPath, [cli, 'choose'], { env: { ...env, MPB_INFRA: 'containers' } });
    expect(forced.stdout).toBe('containers\n');
    expect(forced.stderr).toBe(
      '[infra] containers (MPB_INFRA=containers): PostgreSQL, Redis, Kafka and S3 in Docker, on random local ports\n',
    );
    const given = await run(process.execPath, [cli, 'choose'], { env: { ...env, ...ADDRESSES } });
    expect(given.stdout).toBe('env\n');
    await expect(
      run(process.execPath, [cli, 'choose'], { env: { ...env, MPB_INFRA: 'yes' } }),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('[infra] ERROR: MPB_INFRA must be "local" or "containers"'),
    });
  });
});
