import { defineService, runService } from '@mpb/service-kit';
import { migrations } from '../migrations';
import { loadMetricsConfig } from './config';
import { createCounterCache, createCounterFolder, metricsConsumers, startMetricsApi } from './context';
import { SERVICE_NAME } from './domain/metrics-service';
import { registerDriftGauges } from './drift';
import { createGrpcServer } from './grpc/server';
import { createHttpApp } from './http/app';

/** Posts compared at each scrape for the Redis–PostgreSQL drift gauges. */
const DRIFT_SAMPLE_POSTS = 200;

/**
 * What metrics is made of; `runService` (below) and the test harness build it from this.
 * METRICS_ROLE picks what runs: `all` (default), `api` (HTTP + gRPC) or `consumer` (the two
 * consumers, with HTTP for probes and /metrics only), so the consumer can be scaled on its own.
 */
export const metricsService = defineService({
  name: SERVICE_NAME,
  config: loadMetricsConfig,
  async build(kit) {
    const { config, logger, metrics } = kit;
    const knex = await kit.database({
      migrations,
      applicationName: `${SERVICE_NAME}-${config.METRICS_ROLE}`,
    });
    // Commands of concurrent requests issued in the same tick share one write to Redis.
    const redis = kit.redis({ autoPipelining: true });
    await redis.ping();
    const cache = createCounterCache(redis, config);
    registerDriftGauges({ registry: metrics.registry, knex, cache, sampleSize: DRIFT_SAMPLE_POSTS });

    const api = config.METRICS_ROLE !== 'consumer' ? await startMetricsApi(kit, { knex, cache }) : undefined;
    const consumerSpecs =
      config.METRICS_ROLE !== 'api'
        ? metricsConsumers(config, createCounterFolder({ knex, cache, posts: api?.posts, logger, metrics }))
        : [];
    const consumers = consumerSpecs.map((spec) => kit.consumer(spec.name, spec.make));
    return {
      api,
      knex,
      redis,
      cache,
      consumers,
      consumerSpecs,
      http: createHttpApp({ logger, metrics, readiness: kit.readiness(), routes: api }),
      grpc: api && createGrpcServer({ logger, metrics, service: api.service }),
      about: { role: config.METRICS_ROLE, topic: config.METRICS_TOPIC },
    };
  },
});

if (require.main === module) void runService(metricsService);
