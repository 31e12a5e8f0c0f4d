import Joi from 'joi';
import type { Knex } from 'knex';
import request from 'supertest';
import type { EventConsumer } from '@mpb/kafka';
import { createLogger } from '@mpb/logger';
import {
  baseConfigKeys,
  buildService,
  CLIENT_TIMEOUTS,
  createHttpApp,
  createKafkaClient,
  createRedisClient,
  defineService,
  kafkaKeys,
  loadConfig,
  redisClientOptions,
  redisKeys,
  runService,
  shutdownOrder,
  type PlatformConfig,
  type ReadinessCheck,
  type ServiceKit,
} from '../src';

const silent = createLogger({ service: 'kit-test', level: 'silent' });

interface TestConfig extends PlatformConfig {
  DATABASE_URL: string;
  KAFKA_BROKERS: string;
  KAFKA_CLIENT_ID: string;
  KAFKA_TOPIC_PREFIX: string;
  KAFKA_GROUP_ID?: string;
}

const schema = Joi.object<TestConfig>({
  ...baseConfigKeys,
  HTTP_PORT: Joi.number().port().default(0),
  DATABASE_URL: Joi.string().default('postgres://postgres@127.0.0.1:1/unused'),
  // Nothing listens on port 1: a ping fails at once.
  ...kafkaKeys('kit-test'),
  KAFKA_BROKERS: Joi.string().default('127.0.0.1:1'),
  KAFKA_GROUP_ID: Joi.string(),
});
const loadTestConfig = (env: NodeJS.ProcessEnv): TestConfig =>
  loadConfig(schema, { LOG_LEVEL: 'silent', ...env });

const appOf = (kit: ServiceKit, readiness?: Record<string, ReadinessCheck>) =>
  createHttpApp({
    service: 'kit-test',
    logger: kit.logger,
    metrics: kit.metrics,
    readiness,
    routes: () => undefined,
  });

/** A stand-in database: answers `select 1` unless told it is down, and records its closing. */
function fakeDatabase(log: string[], state = { down: false }): Knex {
  return {
    raw: async () => {
      if (state.down) throw new Error('database down');
      return { rows: [] };
    },
    destroy: async () => {
      log.push('close database');
    },
  } as unknown as Knex;
}

/** A stand-in consumer with the parts the kit uses (start, stop, status, lag). */
function fakeConsumer(name: string, log: string[]): EventConsumer {
  let running = false;
  return {
    groupId: name,
    startInBackground: () => {
      running = true;
      log.push(`start ${name}`);
    },
    stop: async () => {
      running = false;
      log.push(`close ${name}`);
    },
    status: () => ({ running, lastProcessedAt: null }),
    lag: async () => 0,
  } as unknown as EventConsumer;
}

/** A service that declares a database (unless told not to), a client, a worker and a consumer, logging each step. */
function declaredService(log: string[], o: { database?: boolean } = {}) {
  return defineService({
    name: 'kit-test',
    config: loadTestConfig,
    async build(kit: ServiceKit<TestConfig>) {
      const knex = o.database === false ? undefined : await kit.database({ migrations: {} });
      kit.closes('grpc client', {}, () => log.push('close grpc client'));
      kit.worker('scheduler', {
        start: () => log.push('start scheduler'),
        stop: () => log.push('close scheduler'),
      });
      kit.consumer('consumer', () => fakeConsumer('consumer', log));
      const readiness = kit.readiness({ storage: async () => undefined });
      return {
        knex,
        readiness,
        http: appOf(kit, readiness),
      };
    },
  });
}

const build = (log: string[], db = { down: false }) =>
  buildService(declaredService(log), {
    env: {},
    logger: silent,
    openDatabase: async () => fakeDatabase(log, db),
  });

describe('shutdown order', () => {
  const step = (name: string) => ({ name, run: () => undefined });

  it('stops intake first, in listening order, then what the service made, newest first', () => {
    const order = shutdownOrder(
      [step('http'), step('grpc')],
      [step('database'), step('redis'), step('kafka producer'), step('consumer')],
    );
    expect(order.map((s) => s.name)).toEqual([
      'http',
      'grpc',
      'consumer',
      'kafka producer',
      'redis',
      'database',
    ]);
  });

  it('closes a built service newest first: consumers and workers before the clients they use, the database last', async () => {
    const log: string[] = [];
    const service = await build(log);
    service.start();
    await service.close();
    expect(log).toEqual([
      'start scheduler',
      'start consumer',
      'close consumer',
      'close scheduler',
      'close grpc client',
      'close database',
    ]);
  });

  it('runs every step even when one fails', async () => {
    const log: string[] = [];
    const service = await buildService(
      defineService({
        name: 'kit-test',
        config: loadTestConfig,
        async build(kit) {
          kit.closes('first', {}, () => log.push('first'));
          kit.closes('failing', {}, () => Promise.reject(new Error('boom')));
          return { http: appOf(kit) };
        },
      }),
      { env: {}, logger: silent },
    );
    await service.close();
    expect(log).toEqual(['first']);
  });

  it('closes what was made when the build fails halfway', async () => {
    const log: string[] = [];
    const failing = defineService({
      name: 'kit-test',
      config: loadTestConfig,
      async build(kit): Promise<never> {
        kit.closes('made', {}, () => log.push('closed'));
        throw new Error('no bucket');
      },
    });
    await expect(buildService(failing, { env: {}, logger: silent })).rejects.toThrow('no bucket');
    expect(log).toEqual(['closed']);
  });

  it('starts only the named workers when a test asks for them', async () => {
    const log: string[] = [];
    const service = await build(log);
    service.start(['consumer']);
    expect(log).toEqual(['start consumer']);
    await service.close();
  });
});

describe('readiness composition', () => {
  it('checks what the service declared: the database, Kafka and each consumer, plus its own checks', async () => {
    const log: string[] = [];
    const service = await build(log);
    expect(Object.keys(service.parts.readiness).sort()).toEqual(['consumer', 'database', 'kafka', 'storage']);
    await service.close();
  });

  it('reports a stopped consumer and an unreachable Kafka degraded (200), a database down not ready (503)', async () => {
    const log: string[] = [];
    const db = { down: false };
    const service = await build(log, db);
    service.start(['consumer']);
    const ready = await request(service.parts.http).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toMatchObject({ database: 'ok', consumer: 'ok', storage: 'ok' });
    expect(ready.body.checks.kafka).toMatch(/^degraded: /);

    await service.close();
    const stopped = await request(service.parts.http).get('/readyz');
    expect(stopped.status).toBe(200);
    expect(stopped.body.checks.consumer).toBe('degraded: consumer not running');

    db.down = true;
    const down = await request(service.parts.http).get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body.checks.database).toBe('database down');
  });

  it('has no Kafka check in a service that declared no producer or consumer', async () => {
    const service = await buildService(
      defineService({
        name: 'kit-test',
        config: loadTestConfig,
        async build(kit) {
          await kit.database({ migrations: {} });
          const readiness = kit.readiness();
          return {
            readiness,
            http: appOf(kit),
          };
        },
      }),
      { env: {}, logger: silent, openDatabase: async () => fakeDatabase([]) },
    );
    expect(Object.keys(service.parts.readiness)).toEqual(['database']);
    await service.close();
  });

  it("declares an idempotent consumer in the service's group (KAFKA_GROUP_ID), checked by /readyz as consumer", async () => {
    const log: string[] = [];
    const service = await buildService(
      defineService({
        name: 'kit-test',
        config: loadTestConfig,
        async build(kit) {
          const knex = await kit.database({ migrations: {} });
          const consumer = kit.consumes({
            topics: ['blog.posts.v1'],
            ledger: knex,
            handle: async () => undefined,
          });
          return { consumer, readiness: kit.readiness(), http: appOf(kit) };
        },
      }),
      {
        env: { KAFKA_GROUP_ID: 'kit-test-group' },
        logger: silent,
        openDatabase: async () => fakeDatabase(log),
      },
    );
    expect(service.parts.consumer.groupId).toBe('kit-test-group');
    expect(Object.keys(service.parts.readiness).sort()).toEqual(['consumer', 'database', 'kafka']);
    await service.close();
    expect(log).toEqual(['close database']);
  });

  it('refuses a client whose configuration key the service lacks, naming the key', async () => {
    const needsRedis = defineService({
      name: 'kit-test',
      config: loadTestConfig,
      async build(kit) {
        kit.redis();
        return { http: appOf(kit) };
      },
    });
    await expect(buildService(needsRedis, { env: {}, logger: silent })).rejects.toThrow(/REDIS_URL/);
  });
});

describe('client options policy', () => {
  it('bounds every Redis command and connection by the one policy', () => {
    expect(redisClientOptions()).toEqual({
      connectTimeout: CLIENT_TIMEOUTS.redis.connectMs,
      commandTimeout: CLIENT_TIMEOUTS.redis.commandMs,
      maxRetriesPerRequest: CLIENT_TIMEOUTS.redis.retriesPerRequest,
      enableAutoPipelining: false,
    });
  });

  it("takes the service's REDIS_COMMAND_TIMEOUT_MS, defaulting to the policy's", () => {
    const keys = Joi.object(redisKeys());
    expect(keys.validate({}).value).toEqual({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_COMMAND_TIMEOUT_MS: CLIENT_TIMEOUTS.redis.commandMs,
    });
    const redis = createRedisClient('redis://127.0.0.1:1', {
      logger: silent,
      commandTimeoutMs: 500,
      autoPipelining: true,
    });
    try {
      expect(redis.options).toMatchObject({
        commandTimeout: 500,
        connectTimeout: CLIENT_TIMEOUTS.redis.connectMs,
        maxRetriesPerRequest: CLIENT_TIMEOUTS.redis.retriesPerRequest,
        enableAutoPipelining: true,
      });
    } finally {
      redis.disconnect();
    }
  });

  it('makes the Kafka client from the KAFKA_* keys: client id, brokers and topic prefix', () => {
    const kafka = createKafkaClient(
      { KAFKA_BROKERS: 'a:9092,b:9093', KAFKA_CLIENT_ID: 'svc', KAFKA_TOPIC_PREFIX: 'dev.' },
      silent,
    );
    expect(kafka.clientId).toBe('svc');
    expect(kafka.brokers).toEqual(['a:9092', 'b:9093']);
    expect(kafka.topic('blog.posts.v1')).toBe('dev.blog.posts.v1');
  });
});

describe('runService, the composition root', () => {
  it('listens, starts workers after the shutdown is registered, and shuts down intake first', async () => {
    const log: string[] = [];
    const codes: number[] = [];
    const running = await runService(declaredService(log, { database: false }), {
      env: { LOG_LEVEL: 'silent' },
      exit: (code) => codes.push(code),
    });
    expect(running).toBeDefined();
    expect(log).toEqual(['start scheduler', 'start consumer']);
    const res = await request(`http://127.0.0.1:${running!.httpPort}`).get('/livez');
    expect(res.status).toBe(200);
    await running!.shutdown();
    expect(log.slice(2)).toEqual(['close consumer', 'close scheduler', 'close grpc client']);
    expect(codes).toEqual([0]);
    // The HTTP server was closed first: nothing answers on its port any more.
    await expect(request(`http://127.0.0.1:${running!.httpPort}`).get('/livez')).rejects.toThrow();
  });

  it('exits 1 with one JSON line naming every bad key when the config is invalid', async () => {
    const codes: number[] = [];
    const written: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await runService(declaredService([], { database: false }), {
        env: { HTTP_PORT: 'x', NODE_ENV: 'nope' },
        exit: (c) => codes.push(c),
      });
    } finally {
      write.mockRestore();
    }
    expect(codes).toEqual([1]);
    const line = JSON.parse(written.join('')) as { msg: string; problems: string[] };
    expect(line.msg).toBe('invalid configuration');
    expect(line.problems).toHaveLength(2);
  });

  it('exits 1 when the build fails', async () => {
    const codes: number[] = [];
    const failing = defineService({
      name: 'kit-test',
      config: loadTestConfig,
      async build(): Promise<never> {
        throw new Error('no bucket');
      },
    });
    const running = await runService(failing, { env: { LOG_LEVEL: 'silent' }, exit: (c) => codes.push(c) });
    expect(running).toBeUndefined();
    expect(codes).toEqual([1]);
  });
});
