import type { Express } from 'express';
import { createServiceHttpApp, type ServiceHttpDeps } from '@mpb/service-kit';
import { SERVICE_NAME } from '../domain/comments-service';
import { commentRoutes, type RouteDeps } from './routes';

export type HttpAppDeps = RouteDeps & ServiceHttpDeps;

/**
 * The largest body comments' routes need: a post id and a text of 500 characters, under 4 KiB even
 * with every character JSON-escaped (`\\uXXXX`, 6 bytes).
 */
export const BODY_LIMIT = '8kb';

/** The HTTP app without a port: main.ts listens, tests drive it with supertest. */
export const createHttpApp = (d: HttpAppDeps): Express =>
  createServiceHttpApp(d, { service: SERVICE_NAME, bodyLimit: BODY_LIMIT, router: commentRoutes(d) });
