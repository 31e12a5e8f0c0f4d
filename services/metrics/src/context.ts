import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { JWKS_PATH, revokedSessionKey } from '@mpb/contracts';
import type { Logger } from '@mpb/logger';
import { createTokenVerifier, jwksFromUrl, type Jwk, type TokenVerifier } from '@mpb/service-kit';
import { jwksUrlOf, type MetricsConfig } from './config';
import { PgCounterStore, PgFoldLedger } from './data/counter-repository';
import { RedisCounterCache } from './data/redis-counter-cache';
import { CounterFolder } from './domain/folding';
import { MetricsService } from './domain/metrics-service';
import type { EventPublisher, PostDirectory } from './domain/ports';

export type MetricsSettings = Pick<
  MetricsConfig,
  'JWT_ISSUER' | 'JWT_AUDIENCE' | 'AUTH_URL' | 'METRICS_REDIS_PREFIX' | 'DELETED_POST_TTL_SECONDS'
>;

export function createCounterCache(redis: Redis, settings: MetricsSettings): RedisCounterCache {
  return new RedisCounterCache({
    redis,
    prefix: settings.METRICS_REDIS_PREFIX,
    deletedTtlSeconds: settings.DELETED_POST_TTL_SECONDS,
  });
}

export interface ApiContext {
  service: MetricsService;
  verifier: TokenVerifier;
}

/** The API's domain objects on top of the clients main.ts (or a test) created. */
export function createApiContext(d: {
  settings: MetricsSettings;
  knex: Knex;
  redis: Redis;
  cache: RedisCounterCache;
  posts: PostDirectory;
  events: EventPublisher;
  logger: Logger;
  /** Where the verifier gets auth's public keys; auth's JWKS endpoint unless a test hands its own. */
  loadKeys?: () => Promise<Jwk[]>;
}): ApiContext {
  const verifier = createTokenVerifier({
    loadKeys: d.loadKeys ?? jwksFromUrl(jwksUrlOf(d.settings.AUTH_URL, JWKS_PATH)),
    issuer: d.settings.JWT_ISSUER,
    audience: d.settings.JWT_AUDIENCE,
    minRefetchIntervalMs: 5_000,
    // Auth marks revoked sessions in Redis for one access-token lifetime.
    isSessionRevoked: async (sessionId) => (await d.redis.exists(revokedSessionKey(sessionId))) === 1,
  });
  const service = new MetricsService({
    cache: d.cache,
    store: new PgCounterStore(d.knex),
    posts: d.posts,
    events: d.events,
    logger: d.logger.child({ component: 'metrics-service' }),
  });
  return { service, verifier };
}

/** The consumer's domain object. */
export function createCounterFolder(d: {
  knex: Knex;
  cache: RedisCounterCache;
  posts?: PostDirectory;
  logger: Logger;
}): CounterFolder {
  return new CounterFolder({
    ledger: new PgFoldLedger(d.knex),
    cache: d.cache,
    posts: d.posts,
    logger: d.logger.child({ component: 'counter-folder' }),
  });
}
