import type { Express } from 'express';
import { createServiceHttpApp, type ServiceHttpDeps } from '@mpb/service-kit';
import { SERVICE_NAME } from '../domain/metrics-service';
import { likeRoutes, type RouteDeps } from './routes';

export interface HttpAppDeps extends ServiceHttpDeps {
  /** The like routes; absent in a consumer-only process, which serves its probes and /metrics only. */
  routes?: RouteDeps;
}

/** The HTTP app without a port: main.ts listens, tests drive it with supertest. */
export function createHttpApp(d: HttpAppDeps): Express {
  return createServiceHttpApp(d, {
    service: SERVICE_NAME,
    // Like bodies are empty; nothing larger than a small JSON document is ever needed.
    bodyLimit: '16kb',
    router: d.routes ? likeRoutes(d.routes) : undefined,
  });
}
