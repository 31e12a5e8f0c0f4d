import Joi from 'joi';
import {
  authClientKeys,
  type AuthClientConfig,
  loadConfig,
  publishingKeys,
  type PublishingConfig,
  serviceKeys,
  type ServiceConfig,
} from '@mpb/service-kit';

export interface PostsConfig extends ServiceConfig, AuthClientConfig, PublishingConfig {
  /** host:port of the metrics service's gRPC server (likes and views). */
  METRICS_GRPC_ADDR: string;
  /** Longest wait for metrics per request; past it the post is served with the last known counts. */
  METRICS_DEADLINE_MS: number;
  /**
   * How long a post read from PostgreSQL answers further reads of it (0: never). This process's
   * own updates and deletes take effect at once; another replica's within this time.
   */
  POST_CACHE_TTL_MS: number;
  /**
   * The gateway's TRUST_PROXY, set to the same value: posts trusts the gateway and, behind it, the
   * proxies the gateway trusts, to find an anonymous reader's address (view deduplication).
   */
  GATEWAY_TRUST_PROXY: string;
}

const HOST_PORT = /^[^\s:,/]+:\d{1,5}$/;

export const configSchema = Joi.object<PostsConfig>({
  ...serviceKeys({ name: 'posts', httpPort: 3002, grpcPort: 50052 }),
  ...publishingKeys(),
  ...authClientKeys(),
  METRICS_GRPC_ADDR: Joi.string().pattern(HOST_PORT, 'host:port').default('127.0.0.1:50055'),
  METRICS_DEADLINE_MS: Joi.number().integer().min(10).max(10_000).default(2000),
  POST_CACHE_TTL_MS: Joi.number().integer().min(0).max(60_000).default(2000),
  GATEWAY_TRUST_PROXY: Joi.string()
    .trim()
    .default('false')
    .custom((value: string, helpers) => (/^true$/i.test(value) ? helpers.error('any.invalid') : value))
    .messages({
      'any.invalid': '"GATEWAY_TRUST_PROXY" must be false, a hop count or an address/CIDR list, never true',
    }),
});

/** The one place that reads the environment. */
export function loadPostsConfig(env: NodeJS.ProcessEnv = process.env): PostsConfig {
  return loadConfig(configSchema, env);
}
