import type { Express } from 'express';
import type { Logger } from '@mpb/logger';
import {
  createHttpApp as createServiceApp,
  type ReadinessCheck,
  type ServiceMetrics,
} from '@mpb/service-kit';
import { SERVICE_NAME } from '../domain/auth-service';
import { authRoutes, type RouteDeps } from './routes';

export interface HttpAppDeps extends RouteDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  readiness?: Record<string, ReadinessCheck>;
}

/**
 * The largest body auth's routes need: a registration (name 100, username 50, e-mail 254, password
 * 72 bytes, age) or a refresh token, even with every character JSON-escaped, is under 4 KiB.
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
      app.use(authRoutes(d));
    },
  });
}
