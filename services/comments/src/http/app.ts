import type { Express } from 'express';
import type { Logger } from '@mpb/logger';
import {
  createHttpApp as createServiceApp,
  type ReadinessCheck,
  type ServiceMetrics,
} from '@mpb/service-kit';
import { SERVICE_NAME } from '../domain/comments-service';
import { commentRoutes, type RouteDeps } from './routes';

export interface HttpAppDeps extends RouteDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  readiness?: Record<string, ReadinessCheck>;
}

/**
 * The largest body comments' routes need: a post id and a text of 500 characters, under 4 KiB even
 * with every character JSON-escaped (`\\uXXXX`, 6 bytes).
 */
export const BODY_LIMIT = '8kb';

/** The HTTP app without a port: main.ts listens, tests drive it with supertest. */
export function createHttpApp(d: HttpAppDeps): Express {
  return createServiceApp({
    service: SERVICE_NAME,
    logger: d.logger,
    metrics: d.metrics,
    readiness: d.readiness,
    bodyLimit: BODY_LIMIT,
    routes: (app) => {
      app.use(commentRoutes(d));
    },
  });
}
