import Joi from 'joi';
import { DEFAULT_TOKEN_AUDIENCE, DEFAULT_TOKEN_ISSUER } from '@mpb/contracts';
import {
  authClientKeys,
  authUrlKey,
  ConfigError,
  databaseUrlKey,
  kafkaKeys,
  ledgerRetentionKey,
  loadConfig,
  migrateOnStartKey,
  outboxKeys,
  outboxMaxLagKey,
  publishingKeys,
  redisUrlKey,
  secretWithLocalDefault,
  serviceKeys,
  statementTimeoutKey,
  tokenVerificationKeys,
} from '../src';

const schema = Joi.object({
  NODE_ENV: Joi.string().default('development'),
  DATABASE_URL: Joi.string().uri().required(),
  KAFKA_BROKERS: Joi.string().required(),
  HTTP_PORT: Joi.number().port().default(3000),
  SECRET: secretWithLocalDefault('local-only'),
});

describe('config', () => {
  it('names every missing key at once', () => {
    try {
      loadConfig(schema, { HTTP_PORT: 'abc' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).message;
      expect(text).toContain('DATABASE_URL');
      expect(text).toContain('KAFKA_BROKERS');
      expect(text).toContain('HTTP_PORT');
    }
  });

  it('applies local defaults outside production but demands secrets in production', () => {
    const env = { DATABASE_URL: 'postgres://localhost/x', KAFKA_BROKERS: 'k:9092' };
    expect(loadConfig(schema, env)).toMatchObject({ HTTP_PORT: 3000, SECRET: 'local-only' });
    expect(() => loadConfig(schema, { ...env, NODE_ENV: 'production' })).toThrow(/SECRET/);
  });
});

describe('shared config keys', () => {
  const shared = Joi.object({
    NODE_ENV: Joi.string().default('development'),
    DATABASE_URL: databaseUrlKey('postgres://postgres@127.0.0.1:5432/mpb_x'),
    REDIS_URL: redisUrlKey(),
    ...kafkaKeys('mpb-x'),
    MIGRATE_ON_START: migrateOnStartKey(),
    ...tokenVerificationKeys(),
    AUTH_URL: authUrlKey(),
    OUTBOX_MAX_LAG_SECONDS: outboxMaxLagKey(),
    ...outboxKeys(),
    LEDGER_RETENTION_HOURS: ledgerRetentionKey(),
    DATABASE_STATEMENT_TIMEOUT_MS: statementTimeoutKey(),
  });

  it('gives zero-config local defaults', () => {
    expect(loadConfig(shared, {})).toEqual({
      NODE_ENV: 'development',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/mpb_x',
      REDIS_URL: 'redis://127.0.0.1:6379',
      KAFKA_BROKERS: '127.0.0.1:9092',
      KAFKA_CLIENT_ID: 'mpb-x',
      KAFKA_TOPIC_PREFIX: '',
      MIGRATE_ON_START: true,
      JWT_ISSUER: DEFAULT_TOKEN_ISSUER,
      JWT_AUDIENCE: DEFAULT_TOKEN_AUDIENCE,
      AUTH_URL: 'http://127.0.0.1:3001',
      OUTBOX_MAX_LAG_SECONDS: 60,
      KAFKA_MAX_REQUEST_BYTES: 921600,
      KAFKA_MAX_EVENT_BYTES: 262144,
      LEDGER_RETENTION_HOURS: 192,
      DATABASE_STATEMENT_TIMEOUT_MS: 5000,
    });
  });

  it('demands DATABASE_URL in production and rejects malformed values', () => {
    expect(() => loadConfig(shared, { NODE_ENV: 'production' })).toThrow(/DATABASE_URL/);
    const bad = {
      DATABASE_URL: 'mysql://h/db',
      REDIS_URL: 'http://h',
      KAFKA_BROKERS: 'a:1, b:2',
      AUTH_URL: 'ftp://h',
      OUTBOX_MAX_LAG_SECONDS: '0',
      // An event limit above the request limit could never be sent; a retention under a day would
      // forget processed ids while Kafka can still redeliver their events.
      KAFKA_MAX_EVENT_BYTES: String(2 * 1024 * 1024),
      LEDGER_RETENTION_HOURS: '2',
      DATABASE_STATEMENT_TIMEOUT_MS: '-1',
    };
    try {
      loadConfig(shared, bad);
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      for (const key of Object.keys(bad)) expect((err as ConfigError).message).toContain(key);
    }
  });

  it("gives a service's shared keys its own defaults: ports, database and Kafka client named after it", () => {
    const keys = Joi.object({
      ...serviceKeys({ name: 'things', httpPort: 3009, grpcPort: 50059 }),
      ...authClientKeys(),
      ...publishingKeys(),
    });
    expect(loadConfig(keys, {})).toMatchObject({
      NODE_ENV: 'development',
      HTTP_PORT: 3009,
      GRPC_PORT: 50059,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/mpb_things',
      DATABASE_STATEMENT_TIMEOUT_MS: expect.any(Number),
      MIGRATE_ON_START: true,
      KAFKA_CLIENT_ID: 'mpb-things',
      JWT_ISSUER: DEFAULT_TOKEN_ISSUER,
      JWT_AUDIENCE: DEFAULT_TOKEN_AUDIENCE,
      AUTH_URL: 'http://127.0.0.1:3001',
      AUTH_GRPC_ADDR: '127.0.0.1:50051',
      OUTBOX_MAX_LAG_SECONDS: 60,
      LEDGER_RETENTION_HOURS: 192,
      KAFKA_MAX_REQUEST_BYTES: 900 * 1024,
    });
  });
});
