import type { Express } from 'express';
import { createServiceHttpApp, type ServiceHttpDeps } from '@mpb/service-kit';
import { SERVICE_NAME } from '../domain/auth-service';
import { authRoutes, type RouteDeps } from './routes';

export type HttpAppDeps = RouteDeps & ServiceHttpDeps;

/**
 * The largest body auth's routes need: a registration (name 100, username 50, e-mail 254, password
 * 72 bytes, age) or a refresh token, even with every character JSON-escaped, is under 4 KiB.
 */
export const BODY_LIMIT = '8kb';

/** The HTTP app without a port: main.ts listens, tests drive it with supertest. */
export const createHttpApp = (d: HttpAppDeps): Express =>
  createServiceHttpApp(d, { service: SERVICE_NAME, bodyLimit: BODY_LIMIT, router: authRoutes(d) });
