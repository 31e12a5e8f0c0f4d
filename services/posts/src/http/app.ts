import type { Express } from 'express';
import { createServiceHttpApp, type ServiceHttpDeps } from '@mpb/service-kit';
import { SERVICE_NAME } from '../domain/posts-service';
import { trustThroughGateway } from './client-address';
import { postRoutes, type RouteDeps } from './routes';

export interface HttpAppDeps extends RouteDeps, ServiceHttpDeps {
  /** The gateway's TRUST_PROXY (GATEWAY_TRUST_PROXY), for the client address of anonymous readers. */
  gatewayTrustProxy?: string;
}

/**
 * Posts are small: the longest description (20 000 UTF-16 units, each at most 6 bytes JSON-escaped as
 * `\uXXXX`, 3 in raw UTF-8) with a title and a tag is under 122 000 bytes, so 128 KiB holds it.
 */
export const BODY_LIMIT = '128kb';

/** The HTTP app without a port: main.ts listens, tests drive it with supertest. */
export function createHttpApp(d: HttpAppDeps): Express {
  return createServiceHttpApp(d, {
    service: SERVICE_NAME,
    bodyLimit: BODY_LIMIT,
    // Anything but a setting string (absent, a test's stand-in) trusts no proxy behind the gateway.
    trustProxy: trustThroughGateway(typeof d.gatewayTrustProxy === 'string' ? d.gatewayTrustProxy : 'false'),
    router: postRoutes(d),
  });
}
