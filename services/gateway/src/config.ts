import Joi from 'joi';
import { DEFAULT_TOKEN_AUDIENCE, DEFAULT_TOKEN_ISSUER } from '@mpb/contracts';
import { authGrpcAddrKey, baseConfigKeys, loadConfig, type BaseConfig } from '@mpb/service-kit';
import type { GatewaySettings } from './http/app';
import type { UpstreamName } from './http/routes';

const MIB = 1024 * 1024;
const serviceUrl = (port: number) =>
  Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .default(`http://127.0.0.1:${port}`);

/**
 * An origin is `scheme://host[:port]` with nothing after it; `*` means any origin.
 * Checked here so a typo fails at start-up instead of silently blocking a front end.
 */
const ORIGIN = /^https?:\/\/[^/\s?#]+$/;

export interface GatewayConfig extends BaseConfig {
  HTTP_PORT: number;
  METRICS_PORT: number;
  REDIS_URL: string;
  REDIS_COMMAND_TIMEOUT_MS: number;
  AUTH_URL: string;
  AUTH_GRPC_ADDR: string;
  POSTS_URL: string;
  COMMENTS_URL: string;
  ATTACHMENTS_URL: string;
  METRICS_URL: string;
  UPSTREAM_TIMEOUT_MS: number;
  UPSTREAM_MAX_SOCKETS: number;
  HEALTH_TIMEOUT_MS: number;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  JWKS_TIMEOUT_MS: number;
  BODY_LIMIT_BYTES: number;
  SMALL_BODY_LIMIT_BYTES: number;
  UPLOAD_BODY_LIMIT_BYTES: number;
  BODY_IDLE_TIMEOUT_MS: number;
  BODY_TIMEOUT_MS: number;
  BODY_MIN_BYTES_PER_SECOND: number;
  HEADERS_TIMEOUT_MS: number;
  CLIENT_MAX_CONNECTIONS: number;
  CLIENT_MAX_REQUESTS: number;
  CLIENT_MAX_BODIES: number;
  BUFFERED_BODIES_MAX_BYTES: number;
  UPSTREAM_QUEUE_TIMEOUT_MS: number;
  HEALTH_CACHE_MS: number;
  RATE_LIMIT_AUTH_MAX: number;
  RATE_LIMIT_AUTH_WINDOW_SECONDS: number;
  RATE_LIMIT_KEY_PREFIX: string;
  TRUST_PROXY: string;
  CORS_ORIGINS: string;
  CORS_ALLOW_CREDENTIALS: boolean;
}

export const configSchema = Joi.object<GatewayConfig>({
  ...baseConfigKeys,
  HTTP_PORT: Joi.number().port().default(8080),
  /** Prometheus metrics, on a port of their own: the public port does not serve them. */
  METRICS_PORT: Joi.number().port().default(9464),
  REDIS_URL: Joi.string()
    .uri({ scheme: ['redis', 'rediss'] })
    .default('redis://127.0.0.1:6379'),
  /** Every Redis call (rate limit) gives up after this, so Redis trouble never hangs a request. */
  REDIS_COMMAND_TIMEOUT_MS: Joi.number().integer().min(10).max(10000).default(500),
  AUTH_URL: serviceUrl(3001),
  /** auth's gRPC host:port: the revoked sessions tokens are checked against, followed in memory. */
  AUTH_GRPC_ADDR: authGrpcAddrKey(),
  POSTS_URL: serviceUrl(3002),
  COMMENTS_URL: serviceUrl(3003),
  ATTACHMENTS_URL: serviceUrl(3004),
  METRICS_URL: serviceUrl(3005),
  /** Longest an upstream may stay silent before the client gets a 504. */
  UPSTREAM_TIMEOUT_MS: Joi.number().integer().min(100).max(300000).default(10000),
  /** Keep-alive connections per upstream; requests beyond it wait for a free connection. */
  UPSTREAM_MAX_SOCKETS: Joi.number().integer().min(1).max(10000).default(256),
  /** Longest a request waits for a free upstream connection before a 503. */
  UPSTREAM_QUEUE_TIMEOUT_MS: Joi.number().integer().min(10).max(60000).default(2000),
  HEALTH_TIMEOUT_MS: Joi.number().integer().min(50).max(30000).default(2000),
  /** How long one /health answer is reused: the checks behind it run at most once per this. */
  HEALTH_CACHE_MS: Joi.number().integer().min(0).max(60000).default(1000),
  JWT_ISSUER: Joi.string().default(DEFAULT_TOKEN_ISSUER),
  JWT_AUDIENCE: Joi.string().default(DEFAULT_TOKEN_AUDIENCE),
  JWKS_TIMEOUT_MS: Joi.number().integer().min(50).max(30000).default(2000),
  BODY_LIMIT_BYTES: Joi.number()
    .integer()
    .min(1)
    .max(1024 * MIB)
    .default(256 * 1024),
  /** Sign-in, users, comments, likes and attachment metadata: small JSON bodies. */
  SMALL_BODY_LIMIT_BYTES: Joi.number()
    .integer()
    .min(1)
    .max(1024 * MIB)
    .default(64 * 1024),
  /** Attachment uploads: a little above attachments' MAX_REQUEST_BYTES (50 MiB) plus multipart framing. */
  UPLOAD_BODY_LIMIT_BYTES: Joi.number()
    .integer()
    .min(1)
    .max(5 * 1024 * MIB)
    .default(52 * MIB),
  /** A body silent this long between two chunks gets a 408. */
  BODY_IDLE_TIMEOUT_MS: Joi.number().integer().min(100).max(300000).default(5000),
  /** Longest a JSON body (read whole by the gateway) may take. */
  BODY_TIMEOUT_MS: Joi.number().integer().min(100).max(300000).default(15000),
  /** A streamed body (upload) slower than this on average, after BODY_IDLE_TIMEOUT_MS, gets a 408. */
  BODY_MIN_BYTES_PER_SECOND: Joi.number().integer().min(0).default(1024),
  /** Longest a new connection may take to send its request head. */
  HEADERS_TIMEOUT_MS: Joi.number().integer().min(100).max(120000).default(10000),
  /** Open connections per client address (trusted proxies are not counted). */
  CLIENT_MAX_CONNECTIONS: Joi.number().integer().min(1).default(256),
  /** Requests in flight per client (req.ip under TRUST_PROXY). */
  CLIENT_MAX_REQUESTS: Joi.number().integer().min(1).default(128),
  /** Requests per client whose body is still arriving. */
  CLIENT_MAX_BODIES: Joi.number().integer().min(1).default(32),
  /** JSON bodies held in memory at once, all clients together; past it a 503. */
  BUFFERED_BODIES_MAX_BYTES: Joi.number()
    .integer()
    .min(1024)
    .default(64 * MIB),
  RATE_LIMIT_AUTH_MAX: Joi.number().integer().min(1).default(20),
  RATE_LIMIT_AUTH_WINDOW_SECONDS: Joi.number().integer().min(1).max(86400).default(60),
  RATE_LIMIT_KEY_PREFIX: Joi.string().default('gateway:rate:'),
  /**
   * Express `trust proxy`: `false` (X-Forwarded-For ignored, the socket address is the client),
   * a hop count (`1` behind one load balancer), or a comma list of addresses/CIDRs/`loopback`/
   * `uniquelocal`. `true` (trust anyone) is refused: any client could pick its own address.
   */
  TRUST_PROXY: Joi.string()
    .trim()
    .default('false')
    .custom((value: string, helpers) => (/^true$/i.test(value) ? helpers.error('any.invalid') : value))
    .messages({
      'any.invalid': '"TRUST_PROXY" must be false, a hop count or an address/CIDR list, never true',
    }),
  CORS_ORIGINS: Joi.string()
    .allow('')
    .trim()
    .default('')
    .custom((value: string, helpers) => {
      const origins = splitList(value);
      if (origins.includes('*') && origins.length > 1) return helpers.error('any.invalid');
      if (origins.some((o) => o !== '*' && !ORIGIN.test(o))) return helpers.error('any.invalid');
      return value;
    })
    .messages({
      'any.invalid':
        '"CORS_ORIGINS" must be empty, "*" or a comma list of origins like https://app.example.com',
    }),
  CORS_ALLOW_CREDENTIALS: Joi.boolean()
    .default(false)
    .when('CORS_ORIGINS', {
      is: Joi.string().trim().valid('*'),
      then: Joi.valid(false).messages({
        'any.only': '"CORS_ALLOW_CREDENTIALS" cannot be true with CORS_ORIGINS=*',
      }),
    }),
});

export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The value handed to Express `trust proxy`. */
export function trustProxySetting(value: string): false | number | string {
  if (/^false$/i.test(value) || value === '') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** Reads and validates the environment once; throws a ConfigError naming every bad key. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  return loadConfig(configSchema, env);
}

/** Bounds of the public server itself (connections, request heads). */
export function serverGuardSettings(c: GatewayConfig) {
  return { maxConnectionsPerClient: c.CLIENT_MAX_CONNECTIONS, headersTimeoutMs: c.HEADERS_TIMEOUT_MS };
}

export function upstreamUrls(c: GatewayConfig): Record<UpstreamName, string> {
  return {
    auth: c.AUTH_URL,
    posts: c.POSTS_URL,
    comments: c.COMMENTS_URL,
    attachments: c.ATTACHMENTS_URL,
    metrics: c.METRICS_URL,
  };
}

export function gatewaySettings(c: GatewayConfig): GatewaySettings {
  return {
    upstreamTimeoutMs: c.UPSTREAM_TIMEOUT_MS,
    upstreamQueueTimeoutMs: c.UPSTREAM_QUEUE_TIMEOUT_MS,
    healthTimeoutMs: c.HEALTH_TIMEOUT_MS,
    healthCacheMs: c.HEALTH_CACHE_MS,
    bodyLimits: {
      default: c.BODY_LIMIT_BYTES,
      small: c.SMALL_BODY_LIMIT_BYTES,
      upload: c.UPLOAD_BODY_LIMIT_BYTES,
    },
    bodyPace: {
      idleMs: c.BODY_IDLE_TIMEOUT_MS,
      totalMs: c.BODY_TIMEOUT_MS,
      minBytesPerSecond: c.BODY_MIN_BYTES_PER_SECOND,
    },
    clientLimits: { requests: c.CLIENT_MAX_REQUESTS, bodies: c.CLIENT_MAX_BODIES },
    bufferedBodiesMaxBytes: c.BUFFERED_BODIES_MAX_BYTES,
    rateLimits: { auth: { max: c.RATE_LIMIT_AUTH_MAX, windowSeconds: c.RATE_LIMIT_AUTH_WINDOW_SECONDS } },
    rateLimitKeyPrefix: c.RATE_LIMIT_KEY_PREFIX,
    trustProxy: trustProxySetting(c.TRUST_PROXY),
    cors: { origins: splitList(c.CORS_ORIGINS), allowCredentials: c.CORS_ALLOW_CREDENTIALS },
  };
}
