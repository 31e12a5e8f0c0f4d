import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { createProxyMiddleware, type Plugin } from 'http-proxy-middleware';
import type { Histogram } from 'prom-client';
import { AppError, badRequest, payloadTooLarge, renderHttpError, timeout, unavailable } from '@mpb/errors';
import { BODY_TOO_LARGE, lingerThenClose, needsCounting, watchBodySize } from './body-limit';
import type { Upstream } from './upstreams';

export interface ProxyOptions {
  upstream: Upstream;
  /** Longest the upstream may stay silent (connect, headers or body) before a 504. */
  timeoutMs: number;
  duration: Histogram<'upstream' | 'route' | 'status'>;
}

/** Forwards one request whose route, limits and identity the gateway has already settled. */
export type ProxyHandler = (
  req: Request,
  res: Response,
  next: NextFunction,
  o: { route: string; bodyLimitBytes: number },
) => void;

/** Errors that mean nobody is listening at the upstream's address: a 503, not a 502. */
const DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
]);

/** Upstream response headers the gateway owns for its clients. */
const DROPPED_RESPONSE_HEADERS = ['x-powered-by', 'keep-alive', 'proxy-connection'];

/**
 * http-proxy rewrites a DELETE or OPTIONS without Content-Length to `Content-Length: 0` yet still
 * streams the body after it: a chunked body would reach the service as a second, smuggled request
 * on the same connection, past every check of the gateway. Such a request is refused instead.
 */
export function assertSafeFraming(req: IncomingMessage): void {
  if (
    (req.method === 'DELETE' || req.method === 'OPTIONS') &&
    req.headers['content-length'] === undefined &&
    req.headers['transfer-encoding'] !== undefined
  ) {
    throw badRequest(`a ${req.method} body needs a Content-Length`);
  }
}

interface Exchange {
  proxyReq?: ClientRequest;
  timedOut: boolean;
  overLimit: boolean;
}

export function createUpstreamProxy(o: ProxyOptions): ProxyHandler {
  const { name } = o.upstream;
  const exchanges = new WeakMap<IncomingMessage, Exchange>();

  /** Every proxy event the gateway cares about; the package's default plugins are left out. */
  const events: Plugin<Request, Response> = (proxyServer) => {
    // Emitted for every request: http-proxy skips it only for `Expect`, which the gateway strips.
    proxyServer.on('proxyReq', (proxyReq, req, res) => {
      const exchange = exchanges.get(req);
      if (!exchange) return;
      exchange.proxyReq = proxyReq;
      if (exchange.overLimit) {
        proxyReq.destroy();
        return;
      }
      proxyReq.once('timeout', () => {
        exchange.timedOut = true;
      });
      // A client that hangs up frees the upstream connection instead of leaving it busy.
      res.once('close', () => {
        if (!res.writableFinished) proxyReq.destroy();
      });
    });
    proxyServer.on('proxyRes', (proxyRes, _req, res) => {
      for (const h of DROPPED_RESPONSE_HEADERS) delete proxyRes.headers[h];
      for (const h of Object.keys(proxyRes.headers))
        if (h.startsWith('access-control-')) delete proxyRes.headers[h];
      // The client's connection follows the client's wishes, not the upstream's.
      proxyRes.headers.connection = res.shouldKeepAlive ? 'keep-alive' : 'close';
      // An upstream dying mid-body must not leave the client waiting for the rest.
      proxyRes.once('close', () => {
        if (!proxyRes.complete && !res.writableEnded) res.destroy();
      });
    });
    // The client went away first: nothing to answer, the upstream request is already aborted.
    proxyServer.on('econnreset', () => undefined);
    proxyServer.on('error', (err: NodeJS.ErrnoException, req, res) => {
      if (!isResponse(res)) {
        res.destroy();
        return;
      }
      if (res.headersSent || res.writableEnded || res.destroyed) {
        if (!res.writableEnded) res.destroy();
        return;
      }
      const exchange = exchanges.get(req);
      let error: AppError;
      if (exchange?.timedOut) error = timeout(`${name} service timed out`);
      else if (err.code && DOWN_CODES.has(err.code)) error = unavailable(`${name} service unavailable`);
      else error = new AppError('BAD_GATEWAY', `${name} service failed`);
      res.locals.log.warn({ upstream: name, code: err.code, reason: err.message }, 'upstream error');
      lingerThenClose(req, res);
      send(res, error);
    });
  };

  const middleware = createProxyMiddleware<Request, Response>({
    target: o.upstream.url,
    agent: o.upstream.agent,
    changeOrigin: true,
    xfwd: true,
    proxyTimeout: o.timeoutMs,
    // Backstop on the client's socket, a little longer than proxyTimeout so that a silent upstream
    // is answered with a 504 first; it cuts a client that stalls its own upload.
    timeout: o.timeoutMs + 1000,
    // Not the default plugins: their logger builds a URL per response just to log it, and their
    // error page is HTML naming the target. Errors are answered as JSON by `events`.
    ejectPlugins: true,
    plugins: [events],
  });

  // The histogram's child per (route, status), bound once instead of hashing labels per request.
  const durations = new Map<string, { observe(seconds: number): void }>();
  const durationOf = (route: string, status: number) => {
    const key = `${status} ${route}`;
    let child = durations.get(key);
    if (!child) {
      child = o.duration.labels({ upstream: name, route, status: String(status) });
      // Routes come from the table and statuses are three digits: the map stays small.
      if (durations.size < 1000) durations.set(key, child);
    }
    return child;
  };

  return (req, res, next, { route, bodyLimitBytes }) => {
    const exchange: Exchange = { timedOut: false, overLimit: false };
    exchanges.set(req, exchange);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      durationOf(route, res.statusCode).observe(Number(process.hrtime.bigint() - started) / 1e9);
    });
    if (needsCounting(req)) {
      watchBodySize(req, bodyLimitBytes, () => {
        exchange.overLimit = true;
        req.unpipe();
        req.resume();
        exchange.proxyReq?.destroy();
        if (res.headersSent) {
          res.destroy();
          return;
        }
        lingerThenClose(req, res);
        send(res, payloadTooLarge(BODY_TOO_LARGE));
      });
    }
    void middleware(req, res, next);
  };
}

function isResponse(res: Response | Socket): res is Response {
  return typeof (res as Response).writeHead === 'function';
}

function send(res: Response, err: AppError): void {
  const rendered = renderHttpError(err, res.locals.requestId);
  res.status(rendered.status).set(rendered.headers).json(rendered.body);
}
