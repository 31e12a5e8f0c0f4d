import corsMiddleware, { type CorsRequest } from 'cors';
import type { RequestHandler } from 'express';

export interface CorsOptions {
  /** Exact origins, or `['*']` for any origin; empty allows no cross-origin caller. */
  origins: readonly string[];
  /** Lets browsers send cookies/credentials; never together with `*`. */
  allowCredentials: boolean;
  maxAgeSeconds?: number;
}

const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Request-Id';
const EXPOSED_HEADERS = 'X-Request-Id, Retry-After, X-Total-Count, Link';

/** A browser's preflight: an OPTIONS request naming an origin and the method it wants to send. */
const isPreflight = (req: CorsRequest): boolean =>
  req.method === 'OPTIONS' &&
  req.headers.origin !== undefined &&
  req.headers['access-control-request-method'] !== undefined;

/**
 * The `cors` middleware with the gateway's policy. It answers preflights itself (204, never
 * proxied) and marks allowed origins on every response. A denied origin simply gets no CORS
 * headers: the browser then refuses to hand the response to the page. CORS protects browsers'
 * users, not the API; tokens and the services decide access.
 */
export function cors(o: CorsOptions): RequestHandler {
  const anyOrigin = o.origins.includes('*');
  const allowed = new Set(o.origins);
  // The answer depends on the Origin only when some, but not all, origins are allowed.
  const varies = !anyOrigin && allowed.size > 0;
  const policy = corsMiddleware((req, callback) => {
    const origin = req.headers.origin;
    const allowedOrigin = origin !== undefined && (anyOrigin || allowed.has(origin));
    callback(null, {
      // false: `cors` adds no header at all and hands the request on.
      origin: allowedOrigin ? (anyOrigin ? '*' : origin) : false,
      credentials: o.allowCredentials,
      methods: ALLOWED_METHODS,
      allowedHeaders: ALLOWED_HEADERS,
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: o.maxAgeSeconds ?? 600,
      // Only a real preflight is answered here; any other OPTIONS request goes on to its service.
      preflightContinue: !isPreflight(req),
      optionsSuccessStatus: 204,
    });
  });

  return (req, res, next) => {
    if (varies) res.vary('Origin');
    policy(req, res, (err?: unknown) => {
      if (err) return next(err);
      // A preflight from an origin that is not allowed: answered here too, without CORS headers.
      if (isPreflight(req)) {
        res.setHeader('Content-Length', '0');
        res.status(204).end();
        return;
      }
      next();
    });
  };
}
