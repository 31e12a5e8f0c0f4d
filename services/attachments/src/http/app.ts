import type { Express } from 'express';
import type { Logger } from '@mpb/logger';
import {
  createHttpApp as createServiceApp,
  type ReadinessCheck,
  type ServiceMetrics,
} from '@mpb/service-kit';
import { SERVICE_NAME } from '../domain/attachments-service';
import { attachmentRoutes, type RouteDeps } from './routes';

export interface HttpAppDeps extends RouteDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  readiness?: Record<string, ReadinessCheck>;
}

/** The HTTP app without a port: main.ts listens, tests drive it with supertest. */
export function createHttpApp(d: HttpAppDeps): Express {
  return createServiceApp({
    service: SERVICE_NAME,
    logger: d.logger,
    metrics: d.metrics,
    readiness: d.readiness,
    routes: (app) => {
      app.use(attachmentRoutes(d));
    },
  });
}
