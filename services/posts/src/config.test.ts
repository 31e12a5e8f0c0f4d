import { loadPostsConfig } from './config';

describe('posts configuration', () => {
  it('runs locally with zero configuration', () => {
    expect(loadPostsConfig({})).toMatchObject({
      HTTP_PORT: 3002,
      GRPC_PORT: 50052,
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/mpb_posts',
      AUTH_GRPC_ADDR: '127.0.0.1:50051',
      KAFKA_BROKERS: '127.0.0.1:9092',
      KAFKA_CLIENT_ID: 'mpb-posts',
      JWT_ISSUER: 'mpb-auth',
      JWT_AUDIENCE: 'mpb-api',
      AUTH_URL: 'http://127.0.0.1:3001',
      METRICS_GRPC_ADDR: '127.0.0.1:50055',
      METRICS_DEADLINE_MS: 2000,
      MIGRATE_ON_START: true,
      OUTBOX_MAX_LAG_SECONDS: 60,
    });
  });

  it('demands the database URL in production', () => {
    expect(() => loadPostsConfig({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL/);
  });

  it('names every bad key at once', () => {
    const attempt = () =>
      loadPostsConfig({
        METRICS_GRPC_ADDR: 'no-port',
        METRICS_DEADLINE_MS: '0',
        AUTH_URL: 'ftp://auth',
        AUTH_GRPC_ADDR: 'auth',
        KAFKA_BROKERS: 'no port',
      });
    expect(attempt).toThrow(/METRICS_GRPC_ADDR/);
    expect(attempt).toThrow(/METRICS_DEADLINE_MS/);
    expect(attempt).toThrow(/AUTH_URL/);
    expect(attempt).toThrow(/AUTH_GRPC_ADDR/);
    expect(attempt).toThrow(/KAFKA_BROKERS/);
  });

  it('reads values from the environment', () => {
    expect(
      loadPostsConfig({ HTTP_PORT: '4002', METRICS_GRPC_ADDR: 'metrics:50055', METRICS_DEADLINE_MS: '150' }),
    ).toMatchObject({ HTTP_PORT: 4002, METRICS_GRPC_ADDR: 'metrics:50055', METRICS_DEADLINE_MS: 150 });
  });
});
