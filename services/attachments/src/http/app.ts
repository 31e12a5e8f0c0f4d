import type { Express } from 'express';
import { createServiceHttpApp, type ServiceHttpDeps } from '@mpb/service-kit';
import { SERVICE_NAME } from '../domain/attachments-service';
import { attachmentRoutes, type RouteDeps } from './routes';

export type HttpAppDeps = RouteDeps & ServiceHttpDeps;

/**
 * Attachments' routes take files as multipart (streamed, with limits of their own), never JSON: a
 * JSON body is refused past 1 KiB before it is parsed.
 */
export const BODY_LIMIT = '1kb';

/** The HTTP app without a port: main.ts listens, tests drive it with supertest. */
export const createHttpApp = (d: HttpAppDeps): Express =>
  createServiceHttpApp(d, { service: SERVICE_NAME, bodyLimit: BODY_LIMIT, router: attachmentRoutes(d) });
