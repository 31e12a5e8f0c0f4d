import type { Express } from 'express';
import type { Logger } from '@mpb/logger';
import {
  createHttpApp as createServiceApp,
  type ReadinessCheck,
  type ServiceMetrics,
} from '@mpb/service-kit';
import { SERVICE_NAME } from '../domain/posts-service';
import { trustThroughGateway } from './client-address';
import { postRoutes, type RouteDeps } from './routes';

export interface HttpAppDeps extends RouteDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  readiness?: Record<string, ReadinessCheck>;
  /** The gateway's TRUST_PROXY (GATEWAY_TRUST_PROXY), for the client address of anonymous readers. */
  gatewayTrustProxy?: string;
}

/** Posts are small: 256 KiB holds the longest description even with every character JSON-escaped. */
export const BODY_LIMIT = '256kb';

/** The HTTP app without a port: main.ts listens, tests drive it with supertest. */
export function createHttpApp(d: HttpAppDeps): Express {
  return createServiceApp({
    service: SERVICE_NAME,
    logger: d.logger,
    metrics: d.metrics,
    readiness: d.readiness,
    bodyLimit: BODY_LIMIT,
    trustProxy: trustThroughGateway(d.gatewayTrustProxy ?? 'false'),
    routes: (app) => {
      app.use(postRoutes(d));
    },
  });
}
