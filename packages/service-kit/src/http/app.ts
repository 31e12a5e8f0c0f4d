import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { Histogram } from 'prom-client';
import { badRequest, isAppError, notFound, payloadTooLarge, renderHttpError } from '@mpb/errors';
import { errorFields, type Logger } from '@mpb/logger';
import {
  contextFrom,
  failSpan,
  initTracing,
  SpanKind,
  startSpan,
  withContext,
  withRequestId,
} from '@mpb/telemetry';
import type { ServiceMetrics } from '../metrics';
import { assertJsonShape, DEFAULT_JSON_SHAPE, type JsonShapeLimits } from './json-shape';
import { incomingTrace } from '../trace-context';
import './types';

export type ReadinessCheck = () => Promise<unknown>;

/**
 * Thrown by a readiness check whose dependency is down but not needed to serve: /readyz stays 200
 * and reports `degraded` with the detail, so an orchestrator keeps routing traffic to the instance.
 */
export class DegradedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DegradedError';
  }
}

/** The check, with its failures reported as degraded rather than not ready (see DegradedError). */
export const degradedOnFailure =
  (check: ReadinessCheck): ReadinessCheck =>
  async () => {
    try {
      return await check();
    } catch (err) {
      throw new DegradedError(err instanceof Error ? err.message : 'failed');
    }
  };

export interface ReadinessReport {
  /** False when a check that is needed to serve failed: /readyz answers 503. */
  ok: boolean;
  /** True when a check failed that the instance can serve without: /readyz answers 200, `degraded`. */
  degraded: boolean;
  checks: Record<string, string>;
}

export interface HttpAppOptions {
  service: string;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Named checks for /readyz; each must resolve within the timeout. */
  readiness?: Record<string, ReadinessCheck>;
  readinessTimeoutMs?: number;
  /** JSON bodies are parsed by default; a proxy turns this off so bodies pass through untouched. */
  parseJson?: boolean;
  /**
   * The largest JSON body the service's routes need (`8kb`, `128kb`): larger bodies are refused with
   * 413 before they are parsed. Default 16kb; each service sets its own.
   */
  bodyLimit?: string;
  /** Nesting and member count of a JSON body, checked on the raw bytes before parsing (400 beyond). */
  jsonShape?: JsonShapeLimits;
  /** Express `trust proxy`: a boolean, a hop count, an address list, or a function of (address, hop index). */
  trustProxy?: boolean | number | string | ((address: string, index: number) => boolean);
  /**
   * Serve `/metrics` on this app (default true). A public-facing app turns it off and serves the
   * metrics on a port of their own (`createMetricsApp`), so the internet cannot read them.
   */
  serveMetrics?: boolean;
  /** Mounted before the routes (CORS, rate limits). */
  before?: RequestHandler[];
  routes: (app: Express) => void;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const QUIET_PATHS = new Set(['/livez', '/readyz', '/metrics', '/health']);

export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && REQUEST_ID.test(value) ? value : randomUUID();
}

export async function runReadiness(
  checks: Record<string, ReadinessCheck>,
  timeoutMs: number,
): Promise<ReadinessReport> {
  const results: Record<string, string> = {};
  let ok = true;
  let degraded = false;
  await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        results[name] = 'ok';
      } catch (err) {
        if (err instanceof DegradedError) {
          degraded = true;
          results[name] = `degraded: ${err.message}`;
        } else {
          ok = false;
          results[name] = err instanceof Error ? err.message : 'failed';
        }
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ok, degraded, checks: results };
}

/** At most this many label sets are kept bound per histogram; past it, observations go unbound. */
const MAX_BOUND_LABEL_SETS = 1000;

/**
 * The histogram's child for (method, route, status), bound once: prom-client otherwise hashes the
 * label object on every observation.
 */
export function boundHistogram(
  histogram: Histogram<'method' | 'route' | 'status'>,
): (method: string, route: string, status: number) => { observe(seconds: number): void } {
  const bound = new Map<string, { observe(seconds: number): void }>();
  return (method, route, status) => {
    const key = `${method} ${status} ${route}`;
    let child = bound.get(key);
    if (!child) {
      child = histogram.labels({ method, route, status: String(status) });
      if (bound.size < MAX_BOUND_LABEL_SETS) bound.set(key, child);
    }
    return child;
  };
}

/** What a service's HTTP app takes from its composition root besides what its routes need. */
export interface ServiceHttpDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  readiness?: Record<string, ReadinessCheck>;
}

/**
 * A service's HTTP app: the kit's app with the composition root's logger, metrics and readiness
 * checks, and the service's own router (none: probes and /metrics only).
 */
export function createServiceHttpApp(
  d: ServiceHttpDeps,
  o: Omit<HttpAppOptions, 'logger' | 'metrics' | 'readiness' | 'routes'> & { router?: RequestHandler },
): Express {
  const { router, ...options } = o;
  return createHttpApp({
    ...options,
    logger: d.logger,
    metrics: d.metrics,
    readiness: d.readiness,
    routes: (app) => {
      if (router) app.use(router);
    },
  });
}

/** The JSON body limit of a service that sets none: a few fields of text. */
export const DEFAULT_BODY_LIMIT = '16kb';

export function createHttpApp(o: HttpAppOptions): Express {
  // Request ids and trace context travel in the async context: a process whose main.ts did not start
  // tracing (a test building the app alone) still gets the context manager, exporting nothing.
  // Whether spans are exported is main.ts's choice (startTracing, from the validated config).
  initTracing({ service: o.service });
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', o.trustProxy ?? false);
  app.set('json spaces', 0);

  const durations = boundHistogram(o.metrics.httpDuration);
  // The access line has fixed keys, none of them secret, so the logger's redaction (most of the
  // cost of a line) has nothing to do there: it goes through a child without it.
  const accessLog = o.logger.child({}, { redact: { paths: [] } });
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req.headers['x-request-id']);
    res.locals.requestId = requestId;
    // The request runs inside its span and request id: every line logged while serving it, by any
    // logger, names both (the logger's mixin reads them), and its calls and events carry the trace.
    res.locals.log = o.logger;
    const { span, ctx } = startSpan(req.method, {
      kind: SpanKind.SERVER,
      parent: contextFrom(incomingTrace(req)),
    });
    const traceId = span.spanContext().traceId;
    res.setHeader('X-Request-Id', requestId);
    res.setHeader('X-Trace-Id', traceId);
    const end = () => {
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      if (span.isRecording()) {
        span.updateName(`${req.method} ${route}`);
        span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
        if (res.statusCode >= 500) failSpan(span, `status ${res.statusCode}`);
      }
      span.end();
      return route;
    };
    res.once('close', () => {
      if (!res.writableFinished) end(); // the client went away first
    });
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = end();
      durations(req.method, route, res.statusCode).observe(seconds);
      if (!QUIET_PATHS.has(req.path)) {
        accessLog[res.statusCode >= 500 ? 'error' : 'info'](
          {
            request_id: requestId,
            trace_id: traceId,
            method: req.method,
            path: req.path,
            status: res.statusCode,
            duration_ms: Math.round(seconds * 1e4) / 10,
          },
          'request',
        );
      }
    });
    withContext(withRequestId(ctx, requestId), next);
  });

  app.get('/livez', (_req, res) => {
    res.json({ status: 'ok', service: o.service });
  });
  app.get('/readyz', async (_req, res) => {
    const report = await runReadiness(o.readiness ?? {}, o.readinessTimeoutMs ?? 2000);
    const status = !report.ok ? 'unavailable' : report.degraded ? 'degraded' : 'ok';
    res.status(report.ok ? 200 : 503).json({ status, service: o.service, checks: report.checks });
  });
  if (o.serveMetrics !== false) app.get('/metrics', metricsHandler(o.metrics));

  for (const mw of o.before ?? []) app.use(mw);
  if (o.parseJson !== false)
    app.use(
      express.json({
        limit: o.bodyLimit ?? DEFAULT_BODY_LIMIT,
        strict: true,
        type: ['application/json', 'application/*+json'],
        verify: (_req, _res, body) => assertJsonShape(body, o.jsonShape ?? DEFAULT_JSON_SHAPE),
      }),
    );

  o.routes(app);

  app.use((req, _res, next) => next(notFound(`route not found: ${req.method} ${req.path}`)));
  app.use(errorHandler(o));
  return app;
}

interface BodyParserError {
  type?: string;
  status?: number;
}

function errorHandler(o: HttpAppOptions): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const parserError = err as BodyParserError;
    let error: unknown = err;
    // A refusal of the body's shape (json-shape.ts) keeps its own status and message.
    if (isAppError(err)) error = err;
    else if (parserError?.type === 'entity.too.large')
      error = payloadTooLarge(`request body too large (at most ${o.bodyLimit ?? DEFAULT_BODY_LIMIT})`);
    else if (parserError?.type === 'entity.parse.failed') error = badRequest('invalid request body');
    else if (parserError?.type && parserError.status && parserError.status < 500)
      error = badRequest('invalid request body');
    const rendered = renderHttpError(error, res.locals.requestId);
    if (rendered.status >= 500) {
      o.metrics.errors.inc({ kind: 'http' });
      (res.locals.log ?? o.logger).error(errorFields(err, true), 'request failed');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(rendered.status).set(rendered.headers).json(rendered.body);
  };
}

function metricsHandler(metrics: ServiceMetrics): RequestHandler {
  return async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  };
}

/** `/metrics` alone, for a port that only the platform's scrapers reach. */
export function createMetricsApp(metrics: ServiceMetrics): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', metricsHandler(metrics));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return app;
}
