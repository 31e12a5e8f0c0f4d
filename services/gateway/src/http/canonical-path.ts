import type { RequestHandler } from 'express';
import { badRequest } from '@mpb/errors';
import { hasBody, lingerThenClose } from './body-limit';

/**
 * Longest path the gateway accepts. Every public path is a few short segments and numeric ids;
 * Node's parser already caps the whole request head at 16 KiB.
 */
export const MAX_PATH_LENGTH = 2048;

export const MALFORMED_PATH = 'malformed request path';
export const PATH_TOO_LONG = 'request path too long';

/**
 * Characters a path may hold as they are: RFC 3986 unreserved characters and the sub-delimiters
 * no service gives a meaning, plus `@` and `/`. Not allowed: `;` (matrix parameters), `:` (http-proxy
 * rewrites `http:/` in a path), `'` and the characters Node's legacy URL parser would escape on
 * the way out, `\` (turned into `/` by that parser), `#`, spaces and control characters.
 */
const PATH_CHAR = /^[A-Za-z0-9\-._~!$&()*+,=@/]$/;
/** A percent-encoded byte is accepted only outside ASCII (UTF-8 text): an encoded ASCII character is how `/`, `\`, `.`, `;` or NUL get past a matcher. */
const NON_ASCII_ESCAPE = /^%[89A-Fa-f][0-9A-Fa-f]$/;
/** Controls, space, DEL and `#` have no place in a query string a service should see. */
const badQueryChar = (query: string): boolean => {
  for (let i = 0; i < query.length; i += 1) {
    const code = query.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || code === 0x23) return true;
  }
  return false;
};
/** The scheme and authority of an absolute-form request target (`POST http://host/api/...`). */
const ABSOLUTE_FORM = /^https?:\/\/[A-Za-z0-9.\-:[\]]*(?=[/?]|$)/i;

export type CanonicalTarget = { ok: true; url: string } | { ok: false; reason: string };

/**
 * The one form of a request target the gateway routes on and forwards: origin-form, the path
 * lower-cased (every service routes case-insensitively and every path parameter is a number) and
 * without a trailing slash, the query string untouched. A target that would need any other change
 * to reach that form (`//`, `\`, dot segments, `%2f`/`%5c`/`%2e` or any other encoded ASCII, `;`,
 * control characters) is refused: the service then never sees a path other than the one the
 * gateway matched its route and policies on.
 */
export function canonicalTarget(raw: string): CanonicalTarget {
  let target = raw;
  if (!target.startsWith('/')) {
    const absolute = ABSOLUTE_FORM.exec(target);
    if (!absolute) return { ok: false, reason: MALFORMED_PATH };
    target = target.slice(absolute[0].length);
    if (target === '' || target.startsWith('?')) target = `/${target}`;
    if (!target.startsWith('/')) return { ok: false, reason: MALFORMED_PATH };
  }
  const q = target.indexOf('?');
  let path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q);
  if (path.length > MAX_PATH_LENGTH) return { ok: false, reason: PATH_TOO_LONG };
  if (badQueryChar(query)) return { ok: false, reason: MALFORMED_PATH };
  for (let i = 0; i < path.length; i += 1) {
    const c = path[i]!;
    if (c === '%') {
      if (!NON_ASCII_ESCAPE.test(path.slice(i, i + 3))) return { ok: false, reason: MALFORMED_PATH };
      i += 2;
    } else if (!PATH_CHAR.test(c)) {
      return { ok: false, reason: MALFORMED_PATH };
    }
  }
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  if (path !== '/') {
    for (const segment of path.slice(1).split('/')) {
      if (segment === '' || segment === '.' || segment === '..') return { ok: false, reason: MALFORMED_PATH };
    }
  }
  return { ok: true, url: `${path.toLowerCase()}${query}` };
}

/**
 * First of the gateway's own middleware: rewrites `req.url` to its canonical form, so Express
 * routing, the route table, every policy and the proxy all read the same string, or answers 400.
 */
export const canonicalPath: RequestHandler = (req, res, next) => {
  const canonical = canonicalTarget(req.url);
  if (!canonical.ok) {
    if (hasBody(req)) lingerThenClose(req, res);
    next(badRequest(canonical.reason));
    return;
  }
  if (canonical.url !== req.url) {
    req.url = canonical.url;
    req.originalUrl = canonical.url;
  }
  next();
};
