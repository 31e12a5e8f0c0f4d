import Joi from 'joi';
import { ConfigError, loadConfig, secretWithLocalDefault } from '../src';

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
