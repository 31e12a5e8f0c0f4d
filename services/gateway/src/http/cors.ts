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

/**
 * Answers preflights itself (204, never proxied) and marks allowed origins on every response.
 * A denied origin simply gets no CORS headers: the browser then refuses to hand the response to
 * the page. CORS protects browsers' users, not the API; tokens and the services decide access.
 */
export function cors(o: CorsOptions): RequestHandler {
  const anyOrigin = o.origins.includes('*');
  const allowed = new Set(o.origins);
  const maxAge = String(o.maxAgeSeconds ?? 600);
  // The answer depends on the Origin only when some, but not all, origins are allowed.
  const varies = !anyOrigin && allowed.size > 0;

  return (req, res, next) => {
    const origin = req.headers.origin;
    const preflight =
      req.method === 'OPTIONS' &&
      origin !== undefined &&
      req.headers['access-control-request-method'] !== undefined;
    if (varies) res.vary('Origin');
    if (origin !== undefined && (anyOrigin || allowed.has(origin))) {
      res.setHeader('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
      if (o.allowCredentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
      if (preflight) {
        res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
        res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
        res.setHeader('Access-Control-Max-Age', maxAge);
      } else {
        res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
      }
    }
    if (preflight) {
      res.setHeader('Content-Length', '0');
      res.status(204).end();
      return;
    }
    next();
  };
}
