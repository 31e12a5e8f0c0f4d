import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';
import { createProxyMiddleware, type Plugin } from 'http-proxy-middleware';
import type { Counter, Histogram } from 'prom-client';
import { AppError, badRequest, payloadTooLarge, renderHttpError, timeout, unavailable } from '@mpb/errors';
import { SlotUnavailable, type Slots } from './admission';
import {
  BODY_TIMED_OUT,
  BODY_TOO_LARGE,
  hasBody,
  lingerThenClose,
  needsCounting,
  watchBodyPace,
  watchBodySize,
  type BodyPace,
} from './body-limit';
import type { Upstream } from './upstreams';

export interface ProxyOptions {
  upstream: Upstream;
  /** Longest the upstream may stay silent (connect, headers or body) before a 504. */
  timeoutMs: number;
  duration: Histogram<'upstream' | 'route' | 'status'>;
  /** Requests sent a second time after a kept-alive connection was closed under them. */
  retries: Counter<'upstream'>;
  /** One slot per request in flight to this upstream: its connection pool, with a short wait. */
  slots: Slots;
  /** How fast a streamed body (an upload) must keep arriving. */
  pace: BodyPace;
}

/** What the gateway settled about one request before it is forwarded. */
export interface Forward {
  route: string;
  bodyLimitBytes: number;
  /** The whole body, read by the gateway; absent when the body is streamed or there is none. */
  body?: Buffer;
}

/** Forwards one request whose route, limits and identity the gateway has already settled. */
export type ProxyHandler = (req: Request, res: Response, next: NextFunction, o: Forward) => void;

/** Errors that mean nobody is listening at the upstream's address: a 503, not a 502. */
const DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
]);

/**
 * What a service closing a kept-alive connection does to a request the gateway sent on it at that
 * moment (the request crossed the service's close on the wire, before any answer).
 */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);

/** Methods a retry may send again when they carry no body. */
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT', 'POST']);

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
  /** The client's streamed body stalled or crawled. */
  bodyStalled: boolean;
  /** The upstream's response has begun. */
  answered: boolean;
  retried: boolean;
  next: NextFunction;
  /** The client's forwarding headers before the proxy appended to them, restored for a retry. */
  forwarded: Array<string | string[] | undefined>;
}

const FORWARDED = ['x-forwarded-for', 'x-forwarded-port', 'x-forwarded-proto', 'x-forwarded-host'];

/**
 * A service that closes an idle kept-alive connection (its keep-alive timeout, a graceful shutdown)
 * resets a request the gateway sent on it at that very moment. The request never reached the
 * service's application, so one that can be sent again as it was (no body: nothing of it was
 * consumed) is retried once on a fresh connection instead of answering 502.
 */
function isRetryable(err: NodeJS.ErrnoException, req: IncomingMessage, exchange: Exchange): boolean {
  return (
    !exchange.retried &&
    !exchange.answered &&
    !exchange.timedOut &&
    !exchange.overLimit &&
    !exchange.bodyStalled &&
    exchange.proxyReq?.reusedSocket === true &&
    STALE_CONNECTION_CODES.has(err.code ?? '') &&
    RETRYABLE_METHODS.has(req.method ?? '') &&
    !hasBody(req)
  );
}

export function createUpstreamProxy(o: ProxyOptions): ProxyHandler {
  const { name } = o.upstream;
  const exchanges = new WeakMap<IncomingMessage, Exchange>();
  const retries = o.retries.labels({ upstream: name });

  /** Every proxy event the gateway cares about; the package's default plugins are left out. */
  const events: Plugin<Request, Response> = (proxyServer) => {
    // Emitted for every request: http-proxy skips it only for `Expect`, which the gateway strips.
    proxyServer.on('proxyReq', (proxyReq, req, res) => {
      const exchange = exchanges.get(req);
      if (!exchange) return;
      exchange.proxyReq = proxyReq;
      // The service must receive exactly the target the gateway matched its route and policies on.
      if (proxyReq.path !== req.url) {
        res.locals.log.error({ upstream: name }, 'outgoing path differs from the routed one; refused');
        proxyReq.destroy();
        return;
      }
      if (exchange.overLimit || exchange.bodyStalled) {
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
    proxyServer.on('proxyRes', (proxyRes, req, res) => {
      const exchange = exchanges.get(req);
      if (exchange) exchange.answered = true;
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
      if (exchange && isRetryable(err, req, exchange)) {
        exchange.retried = true;
        retries.inc();
        res.locals.log.info(
          { upstream: name, code: err.code },
          'upstream closed a kept-alive connection; retrying',
        );
        FORWARDED.forEach((h, i) => {
          const value = exchange.forwarded[i];
          if (value === undefined) delete req.headers[h];
          else req.headers[h] = value;
        });
        void fresh(req, res, exchange.next);
        return;
      }
      let error: AppError;
      if (exchange?.bodyStalled) {
        sendBodyTimeout(res);
        return;
      }
      if (exchange?.timedOut) error = timeout(`${name} service timed out`);
      // Nothing listens (also when a retry found the service gone): 503. Like every gateway 5xx it
      // promises nothing about a request the gateway had already sent (see the README).
      else if (err.code && DOWN_CODES.has(err.code)) error = unavailable(`${name} service unavailable`);
      else error = new AppError('BAD_GATEWAY', `${name} service failed`);
      res.locals.log.warn({ upstream: name, code: err.code, reason: err.message }, 'upstream error');
      lingerThenClose(req, res);
      send(res, error);
    });
  };

  const options = {
    target: o.upstream.url,
    // The path goes out as req.url, which the gateway made canonical: http-proxy would otherwise
    // parse it again with Node's legacy parser (`\` becomes `/`, `'` becomes `%27`).
    toProxy: true,
    // Per request: the next replica's address when the upstream's name resolves to several.
    router: () => o.upstream.pick(),
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
  };
  let server: Parameters<Plugin<Request, Response>>[0] | undefined;
  const capture: Plugin<Request, Response> = (proxyServer) => {
    server = proxyServer;
  };
  // Built for its proxy server: requests go to server.web directly, which takes a buffered body.
  createProxyMiddleware<Request, Response>({ ...options, plugins: [events, capture] });
  if (!server) throw new Error('http-proxy-middleware did not hand over its proxy server');
  const proxyServer = server;
  // No agent: a connection of its own, never one from the pool that might be closing as well.
  const fresh = createProxyMiddleware<Request, Response>({ ...options, agent: false });

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

  const forward = (req: Request, res: Response, exchange: Exchange, body: Buffer | undefined) => {
    if (body) {
      // The body is all here: the service gets it with its length, whatever framing the client used.
      delete req.headers['transfer-encoding'];
      req.headers['content-length'] = String(body.length);
    }
    proxyServer.web(req, res, {
      ...options,
      // server.web skips http-proxy-middleware's router: the replica is picked here.
      target: o.upstream.pick(),
      agent: o.upstream.agent,
      ...(body ? { buffer: Readable.from([body]) } : {}),
    });
  };

  return (req, res, next, { route, bodyLimitBytes, body }) => {
    const exchange: Exchange = {
      timedOut: false,
      overLimit: false,
      bodyStalled: false,
      answered: false,
      retried: false,
      next,
      forwarded: FORWARDED.map((h) => req.headers[h]),
    };
    exchanges.set(req, exchange);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      durationOf(route, res.statusCode).observe(Number(process.hrtime.bigint() - started) / 1e9);
    });
    if (!body && needsCounting(req)) {
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
    if (!body && hasBody(req) && !req.complete) {
      watchBodyPace(req, o.pace, () => {
        exchange.bodyStalled = true;
        exchange.proxyReq?.destroy();
        if (res.headersSent) res.destroy();
        else sendBodyTimeout(res);
      });
    }
    let leave: (() => void) | undefined;
    res.once('close', () => leave?.());
    o.slots
      .acquire((l) => {
        leave = l;
      })
      .then(
        (release) => {
          leave = undefined;
          if (res.destroyed || res.writableEnded) {
            release();
            return;
          }
          res.once('close', release);
          forward(req, res, exchange, body);
        },
        (err: unknown) => {
          if (res.headersSent) return;
          const reason = err instanceof SlotUnavailable ? err.reason : 'failed';
          res.locals.log.warn({ upstream: name, reason }, 'no upstream connection free in time');
          if (hasBody(req)) lingerThenClose(req, res);
          send(res, unavailable(`${name} service busy, try again later`, { retryAfter: 1 }));
        },
      );
  };
}

/**
 * 408 for a client whose body stalled: it is not waiting for a lingering close, so the connection
 * is closed as soon as the answer is out.
 */
export function sendBodyTimeout(res: Response): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.once('finish', () => res.socket?.destroy());
  res
    .status(408)
    .set('connection', 'close')
    .json({ error: BODY_TIMED_OUT, code: 'REQUEST_TIMEOUT', request_id: res.locals.requestId });
}

function isResponse(res: Response | Socket): res is Response {
  return typeof (res as Response).writeHead === 'function';
}

function send(res: Response, err: AppError): void {
  const rendered = renderHttpError(err, res.locals.requestId);
  res.status(rendered.status).set(rendered.headers).json(rendered.body);
}
