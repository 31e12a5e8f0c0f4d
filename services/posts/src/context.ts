import type { Knex } from 'knex';
import { Counter } from 'prom-client';
import type { Logger } from '@mpb/logger';
import {
  sessionTokenVerifier,
  jwksFromAuth,
  type Jwk,
  type SessionRevocations,
  type ServiceMetrics,
  type TokenVerifier,
} from '@mpb/service-kit';
import type { PostsConfig } from './config';
import { PostRepository } from './data/post-repository';
import { LivePostCache } from './domain/live-post-cache';
import { PostsService } from './domain/posts-service';
import { CountsWithFallback } from './grpc/counts-with-fallback';
import type { MetricsPort } from './grpc/metrics-client';

export type PostsSettings = Pick<PostsConfig, 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'AUTH_URL'> &
  Partial<Pick<PostsConfig, 'POST_CACHE_TTL_MS'>>;

export interface PostsContext {
  posts: PostsService;
  counts: CountsWithFallback;
  verifier: TokenVerifier;
}

export interface PostsContextDeps {
  settings: PostsSettings;
  knex: Knex;
  /** The sessions auth revoked (followed from auth's feed in main.ts). */
  revocations: Pick<SessionRevocations, 'isRevoked'>;
  /** The metrics service (a gRPC client in main.ts). */
  metricsService: MetricsPort;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Where the verifier gets auth's public keys; auth's JWKS endpoint unless a test hands its own. */
  loadKeys?: () => Promise<Jwk[]>;
}

const FALLBACK_METRIC = 'posts_counts_fallback_total';

/** Builds the domain objects on top of the clients main.ts (or a test) created. */
export function createPostsContext(d: PostsContextDeps): PostsContext {
  const fallbacks =
    (d.metrics.registry.getSingleMetric(FALLBACK_METRIC) as Counter<'reason'> | undefined) ??
    new Counter({
      name: FALLBACK_METRIC,
      help: 'Reads served with last known counts because metrics failed or was being skipped',
      labelNames: ['reason'],
      registers: [d.metrics.registry],
    });
  const counts = new CountsWithFallback({
    metrics: d.metricsService,
    logger: d.logger.child({ component: 'metrics-counts' }),
    onFallback: (reason) => fallbacks.inc({ reason }),
  });
  const verifier = sessionTokenVerifier({
    settings: d.settings,
    loadKeys: d.loadKeys ?? jwksFromAuth(d.settings.AUTH_URL),
    revocations: d.revocations,
  });
  return {
    posts: new PostsService({
      posts: new PostRepository(d.knex),
      counts,
      livePosts: new LivePostCache({ ttlMs: d.settings.POST_CACHE_TTL_MS ?? 2000 }),
    }),
    counts,
    verifier,
  };
}
