import { loadAuthConfig } from './config';

describe('auth configuration', () => {
  it('runs locally with zero configuration', () => {
    expect(loadAuthConfig({})).toMatchObject({
      HTTP_PORT: 3001,
      GRPC_PORT: 50051,
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/mpb_auth',
      KAFKA_BROKERS: '127.0.0.1:9092',
      JWT_ISSUER: 'mpb-auth',
      JWT_AUDIENCE: 'mpb-api',
      ACCESS_TOKEN_TTL_SECONDS: 900,
      REFRESH_TOKEN_TTL_SECONDS: 30 * 24 * 3600,
      BCRYPT_COST: 10,
      MIGRATE_ON_START: true,
    });
  });

  it('demands the database URL in production', () => {
    expect(() => loadAuthConfig({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL/);
  });

  it('names every bad key at once', () => {
    const attempt = () =>
      loadAuthConfig({ BCRYPT_COST: '4', KAFKA_BROKERS: 'no port', MIGRATE_ON_START: 'maybe' });
    expect(attempt).toThrow(/BCRYPT_COST/);
    expect(attempt).toThrow(/KAFKA_BROKERS/);
    expect(attempt).toThrow(/MIGRATE_ON_START/);
  });

  it('reads values from the environment', () => {
    expect(
      loadAuthConfig({ HTTP_PORT: '4001', KAFKA_BROKERS: 'a:1,b:2', MIGRATE_ON_START: 'false' }),
    ).toMatchObject({
      HTTP_PORT: 4001,
      KAFKA_BROKERS: 'a:1,b:2',
      MIGRATE_ON_START: false,
    });
  });
});

describe('SIGNING_KEY_PEM', () => {
  it('accepts an EC P-256 private key and refuses other keys and garbage', () => {
    const { generateKeyPairSync } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    const pem = (k: import('node:crypto').KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }) as string;
    const ec = pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const p384 = pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey);
    expect(loadAuthConfig({ SIGNING_KEY_PEM: ec }).SIGNING_KEY_PEM).toBe(ec);
    expect(() => loadAuthConfig({ SIGNING_KEY_PEM: p384 })).toThrow(/SIGNING_KEY_PEM/);
    expect(() => loadAuthConfig({ SIGNING_KEY_PEM: 'not a key' })).toThrow(/SIGNING_KEY_PEM/);
  });
});
