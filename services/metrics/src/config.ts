import Joi from 'joi';
import { Topics } from '@mpb/contracts';
import {
  authClientKeys,
  type AuthClientConfig,
  consumerMaxStallKey,
  loadConfig,
  redisKeys,
  type RedisConfig,
  serviceKeys,
  type ServiceConfig,
} from '@mpb/service-kit';

/** What one process runs: everything (default), only the API (HTTP + gRPC), or only the consumers. */
export type MetricsRole = 'all' | 'api' | 'consumer';

/** REDIS_URL holds the counters (likes, views, deletion markers); REDIS_COMMAND_TIMEOUT_MS bounds each command. */
export interface MetricsConfig extends ServiceConfig, AuthClientConfig, RedisConfig {
  METRICS_ROLE: MetricsRole;
  /** Prefix of every counter key, so several deployments (or test runs) can share one Redis database. */
  METRICS_REDIS_PREFIX: string;
  /** Where likes and views are published and consumed from. */
  METRICS_TOPIC: string;
  /**
   * How long a like or a view waits for Kafka's acknowledgement before it answers 503 (the outcome is
   * then uncertain and Redis converges either way); well under the gateway's upstream timeout.
   */
  METRICS_PUBLISH_TIMEOUT_MS: number;
  /** Where post events come from (post.deleted removes counters). */
  POSTS_TOPIC: string;
  METRICS_CONSUMER_GROUP: string;
  POSTS_CONSUMER_GROUP: string;
  /**
   * How long the broker waits for a silent consumer before giving its partitions to another member
   * (a killed process is noticed after this long).
   */
  KAFKA_SESSION_TIMEOUT_MS: number;
  /** Most events folded in one PostgreSQL transaction. */
  METRICS_BATCH_SIZE: number;
  /**
   * A fetch of the metrics topic waits until this much data is there (or FETCH_MAX_WAIT_MS passed),
   * so a busy topic is folded in fewer, larger transactions.
   */
  METRICS_FETCH_MIN_BYTES: number;
  METRICS_FETCH_MAX_WAIT_MS: number;
  /** /readyz reports a consumer degraded when events wait and none was processed for this long. */
  CONSUMER_MAX_STALL_SECONDS: number;
  /** How long Redis remembers a deleted post, refusing likes and views of it at once. */
  DELETED_POST_TTL_SECONDS: number;
  /**
   * A viewer (signed-in user, or anonymous client address) counts at most one view per post within
   * this many seconds; 0 counts every read (the old behaviour).
   */
  VIEW_DEDUP_SECONDS: number;
  /** host:port of the posts service's gRPC server (does the post exist). */
  POSTS_GRPC_ADDR: string;
  POSTS_DEADLINE_MS: number;
  /** How long a "this post exists" answer is reused; "not found" is never cached. */
  POSTS_CACHE_TTL_MS: number;
}

const HOST_PORT = /^[^\s:,/]+:\d{1,5}$/;
const TOPIC = /^[A-Za-z0-9._-]{1,200}$/;

export const configSchema = Joi.object<MetricsConfig>({
  ...serviceKeys({ name: 'metrics', httpPort: 3005, grpcPort: 50055 }),
  METRICS_ROLE: Joi.string().valid('all', 'api', 'consumer').default('all'),
  ...redisKeys(),
  METRICS_REDIS_PREFIX: Joi.string()
    .pattern(/^[A-Za-z0-9:._-]{1,64}$/, 'letters, digits, colon, dot, dash, underscore')
    .default('metrics:'),
  METRICS_TOPIC: Joi.string().pattern(TOPIC, 'topic name').default(Topics.metrics),
  METRICS_PUBLISH_TIMEOUT_MS: Joi.number().integer().min(100).max(60_000).default(2500),
  POSTS_TOPIC: Joi.string().pattern(TOPIC, 'topic name').default(Topics.posts),
  METRICS_CONSUMER_GROUP: Joi.string().pattern(TOPIC, 'group id').default('metrics-counters'),
  POSTS_CONSUMER_GROUP: Joi.string().pattern(TOPIC, 'group id').default('metrics-post-deletions'),
  KAFKA_SESSION_TIMEOUT_MS: Joi.number().integer().min(6000).max(300_000).default(30_000),
  METRICS_BATCH_SIZE: Joi.number().integer().min(1).max(10_000).default(2000),
  METRICS_FETCH_MIN_BYTES: Joi.number()
    .integer()
    .min(1)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
  METRICS_FETCH_MAX_WAIT_MS: Joi.number().integer().min(10).max(5000).default(500),
  CONSUMER_MAX_STALL_SECONDS: consumerMaxStallKey(),
  DELETED_POST_TTL_SECONDS: Joi.number()
    .integer()
    .min(60)
    .default(7 * 24 * 3600),
  VIEW_DEDUP_SECONDS: Joi.number()
    .integer()
    .min(0)
    .max(7 * 24 * 3600)
    .default(1800),
  ...authClientKeys(),
  POSTS_GRPC_ADDR: Joi.string().pattern(HOST_PORT, 'host:port').default('127.0.0.1:50052'),
  POSTS_DEADLINE_MS: Joi.number().integer().min(10).max(10_000).default(1000),
  POSTS_CACHE_TTL_MS: Joi.number().integer().min(0).max(300_000).default(10_000),
});

/** The one place that reads the environment. */
export function loadMetricsConfig(env: NodeJS.ProcessEnv = process.env): MetricsConfig {
  return loadConfig(configSchema, env);
}
