import { loadCommentsConfig } from './config';

describe('comments configuration', () => {
  it('runs locally with zero configuration', () => {
    expect(loadCommentsConfig({})).toMatchObject({
      HTTP_PORT: 3003,
      GRPC_PORT: 50053,
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/mpb_comments',
      AUTH_GRPC_ADDR: '127.0.0.1:50051',
      KAFKA_BROKERS: '127.0.0.1:9092',
      KAFKA_CLIENT_ID: 'mpb-comments',
      KAFKA_GROUP_ID: 'comments',
      JWT_ISSUER: 'mpb-auth',
      JWT_AUDIENCE: 'mpb-api',
      AUTH_URL: 'http://127.0.0.1:3001',
      POSTS_GRPC_ADDR: '127.0.0.1:50052',
      POSTS_DEADLINE_MS: 1000,
      POST_LIVENESS_CACHE_MS: 0,
      MIGRATE_ON_START: true,
      OUTBOX_MAX_LAG_SECONDS: 60,
    });
  });

  it('demands the database URL in production', () => {
    expect(() => loadCommentsConfig({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL/);
  });

  it('names every bad key at once', () => {
    const attempt = () =>
      loadCommentsConfig({ POSTS_GRPC_ADDR: 'no port', AUTH_URL: 'ftp://x', POSTS_DEADLINE_MS: 'soon' });
    expect(attempt).toThrow(/POSTS_GRPC_ADDR/);
    expect(attempt).toThrow(/AUTH_URL/);
    expect(attempt).toThrow(/POSTS_DEADLINE_MS/);
  });

  it('reads values from the environment', () => {
    expect(
      loadCommentsConfig({
        HTTP_PORT: '4003',
        KAFKA_GROUP_ID: 'comments-blue',
        POSTS_GRPC_ADDR: 'posts:50052',
        POSTS_DEADLINE_MS: '250',
      }),
    ).toMatchObject({
      HTTP_PORT: 4003,
      KAFKA_GROUP_ID: 'comments-blue',
      POSTS_GRPC_ADDR: 'posts:50052',
      POSTS_DEADLINE_MS: 250,
    });
  });
});
