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

/**
 * Attachments' routes take files as multipart (streamed, with limits of their own), never JSON: a
 * JSON body is refused past 1 KiB before it is parsed.
 */
export const BODY_LIMIT = '1kb';

/** The HTTP app without a port: main.ts listens, tests drive it with supertest. */
export function createHttpApp(d: HttpAppDeps): Express {
  return createServiceApp({
    service: SERVICE_NAME,
    logger: d.logger,
    metrics: d.metrics,
    readiness: d.readiness,
    bodyLimit: BODY_LIMIT,
    routes: (app) => {
      app.use(attachmentRoutes(d));
    },
  });
}
