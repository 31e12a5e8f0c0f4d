import Joi from 'joi';
import {
  authClientKeys,
  type AuthClientConfig,
  consumerMaxStallKey,
  loadConfig,
  publishingKeys,
  type PublishingConfig,
  serviceKeys,
  type ServiceConfig,
} from '@mpb/service-kit';

export interface CommentsConfig extends ServiceConfig, AuthClientConfig, PublishingConfig {
  /** Consumer group reading post events; every replica uses the same one. */
  KAFKA_GROUP_ID: string;
  /** host:port of the posts gRPC server, asked whether a post exists before a comment is stored. */
  POSTS_GRPC_ADDR: string;
  POSTS_DEADLINE_MS: number;
  /**
   * How long a read may trust posts' "this post is live" before asking again (0: never, every read
   * of a commented post asks; reads of one post at the same moment share one call). "Deleted" is kept.
   */
  POST_LIVENESS_CACHE_MS: number;
  /** /readyz fails when post events wait and the consumer has not processed one for this long. */
  CONSUMER_MAX_STALL_SECONDS: number;
}

export const configSchema = Joi.object<CommentsConfig>({
  ...serviceKeys({ name: 'comments', httpPort: 3003, grpcPort: 50053 }),
  ...publishingKeys(),
  KAFKA_GROUP_ID: Joi.string()
    .pattern(/^[A-Za-z0-9._-]{1,200}$/, 'consumer group id')
    .default('comments'),
  ...authClientKeys(),
  POSTS_GRPC_ADDR: Joi.string()
    .pattern(/^[^\s:,]+:\d{1,5}$/, 'host:port')
    .default('127.0.0.1:50052'),
  POSTS_DEADLINE_MS: Joi.number().integer().min(50).max(30_000).default(1000),
  POST_LIVENESS_CACHE_MS: Joi.number().integer().min(0).max(60_000).default(0),
  CONSUMER_MAX_STALL_SECONDS: consumerMaxStallKey(),
});

/** The one place that reads the environment. */
export function loadCommentsConfig(env: NodeJS.ProcessEnv = process.env): CommentsConfig {
  return loadConfig(configSchema, env);
}
