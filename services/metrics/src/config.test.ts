import { loadMetricsConfig } from './config';

describe('metrics configuration', () => {
  it('runs locally with zero configuration', () => {
    expect(loadMetricsConfig({})).toMatchObject({
      HTTP_PORT: 3005,
      GRPC_PORT: 50055,
      HOST: '127.0.0.1',
      METRICS_ROLE: 'all',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/mpb_metrics',
      REDIS_URL: 'redis://127.0.0.1:6379',
      METRICS_REDIS_PREFIX: 'metrics:',
      KAFKA_BROKERS: '127.0.0.1:9092',
      METRICS_TOPIC: 'blog.metrics.v1',
      POSTS_TOPIC: 'blog.posts.v1',
      METRICS_CONSUMER_GROUP: 'metrics-counters',
      POSTS_CONSUMER_GROUP: 'metrics-post-deletions',
      METRICS_BATCH_SIZE: 2000,
      CONSUMER_MAX_STALL_SECONDS: 120,
      POSTS_GRPC_ADDR: '127.0.0.1:50052',
      AUTH_URL: 'http://127.0.0.1:3001',
      MIGRATE_ON_START: true,
    });
  });

  it('demands the database URL in production', () => {
    expect(() => loadMetricsConfig({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL/);
  });

  it('names every bad key at once', () => {
    const attempt = () =>
      loadMetricsConfig({
        METRICS_ROLE: 'worker',
        CONSUMER_MAX_STALL_SECONDS: '1',
        POSTS_GRPC_ADDR: 'nowhere',
      });
    expect(attempt).toThrow(/METRICS_ROLE/);
    expect(attempt).toThrow(/CONSUMER_MAX_STALL_SECONDS/);
    expect(attempt).toThrow(/POSTS_GRPC_ADDR/);
  });

  it('reads the role, topic and batch size from the environment', () => {
    expect(
      loadMetricsConfig({
        METRICS_ROLE: 'consumer',
        METRICS_TOPIC: 'test.metrics.x',
        METRICS_BATCH_SIZE: '50',
      }),
    ).toMatchObject({ METRICS_ROLE: 'consumer', METRICS_TOPIC: 'test.metrics.x', METRICS_BATCH_SIZE: 50 });
  });
});
