import type { Express } from 'express';
import type { Logger } from '@mpb/logger';
import {
  createHttpApp as createServiceApp,
  type ReadinessCheck,
  type ServiceMetrics,
} from '@mpb/service-kit';
import { SERVICE_NAME } from '../domain/metrics-service';
import { likeRoutes, type RouteDeps } from './routes';

export interface HttpAppDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  readiness?: Record<string, ReadinessCheck>;
  /** The like routes; absent in a consumer-only process, which serves its probes and /metrics only. */
  routes?: RouteDeps;
}

/** The HTTP app without a port: main.ts listens, tests drive it with supertest. */
export function createHttpApp(d: HttpAppDeps): Express {
  return createServiceApp({
    service: SERVICE_NAME,
    logger: d.logger,
    metrics: d.metrics,
    readiness: d.readiness,
    // Like bodies are empty; nothing larger than a small JSON document is ever needed.
    bodyLimit: '16kb',
    routes: (app) => {
      if (d.routes) app.use(likeRoutes(d.routes));
    },
  });
}
