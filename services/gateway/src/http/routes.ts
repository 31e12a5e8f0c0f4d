/**
 * The gateway's routing table: which upstream serves which public path, and the per-row policy
 * (early token check, rate limit, body limit). The first matching row wins, so specific rows go
 * before the general ones they refine. Anything no row matches is a 404 at the gateway.
 */

export const UPSTREAM_NAMES = ['auth', 'posts', 'comments', 'attachments', 'metrics'] as const;
export type UpstreamName = (typeof UPSTREAM_NAMES)[number];

/** Named so that the limits themselves come from configuration. */
export type RateLimitPolicy = 'auth';
/**
 * `default` (BODY_LIMIT_BYTES): posts, whose description holds 20,000 characters of any script.
 * `small` (SMALL_BODY_LIMIT_BYTES): every other JSON row, whose bodies are a few fields.
 * `upload`: multipart uploads to attachments, which enforces its own per-file and per-request caps;
 * the only bodies streamed to the service as they arrive, the others are read whole first.
 */
export type BodyLimitPolicy = 'default' | 'small' | 'upload';

export interface RouteRow {
  /** Names the row in rate-limit keys and metrics; unique within the table. */
  name: string;
  /**
   * A string is a path prefix matched on whole segments (`/api/users` matches `/api/users` and
   * `/api/users/7`, not `/api/usersx`). A RegExp is tested against the path. Both see the
   * canonical path (`canonical-path.ts`: lower-case, no trailing slash, no `//`, dot segments or
   * encoded ASCII), which is also exactly the path the service receives.
   */
  path: string | RegExp;
  upstream: UpstreamName;
  /** Verify a present Authorization header before proxying. Default true. */
  verifyToken?: boolean;
  rateLimit?: RateLimitPolicy;
  /** Default `default` (BODY_LIMIT_BYTES); see BodyLimitPolicy. */
  bodyLimit?: BodyLimitPolicy;
}

export const ROUTES: readonly RouteRow[] = [
  // A client whose access token expired must still be able to sign in again or refresh, so these
  // three never verify the Authorization header; auth itself ignores it there.
  {
    name: 'auth-login',
    path: '/api/auth/login',
    upstream: 'auth',
    verifyToken: false,
    rateLimit: 'auth',
    bodyLimit: 'small',
  },
  {
    name: 'auth-register',
    path: '/api/auth/register',
    upstream: 'auth',
    verifyToken: false,
    rateLimit: 'auth',
    bodyLimit: 'small',
  },
  {
    name: 'auth-refresh',
    path: '/api/auth/refresh',
    upstream: 'auth',
    verifyToken: false,
    bodyLimit: 'small',
  },
  { name: 'auth', path: '/api/auth', upstream: 'auth', bodyLimit: 'small' },
  { name: 'users', path: '/api/users', upstream: 'auth', bodyLimit: 'small' },
  // Sub-resources of a post or comment owned by other services come before the general rows.
  {
    name: 'post-attachments',
    path: /^\/api\/posts\/[^/]+\/attachments(\/|$)/,
    upstream: 'attachments',
    bodyLimit: 'upload',
  },
  { name: 'post-attachment', path: '/api/posts/attachments', upstream: 'attachments', bodyLimit: 'small' },
  {
    name: 'comment-attachments',
    path: /^\/api\/comments\/[^/]+\/attachments(\/|$)/,
    upstream: 'attachments',
    bodyLimit: 'upload',
  },
  {
    name: 'comment-attachment',
    path: '/api/comments/attachments',
    upstream: 'attachments',
    bodyLimit: 'small',
  },
  {
    name: 'post-comments',
    path: /^\/api\/posts\/[^/]+\/comments(\/|$)/,
    upstream: 'comments',
    bodyLimit: 'small',
  },
  {
    name: 'post-likes',
    path: /^\/api\/posts\/[^/]+\/(like|unlike)\/?$/,
    upstream: 'metrics',
    bodyLimit: 'small',
  },
  { name: 'comments', path: '/api/comments', upstream: 'comments', bodyLimit: 'small' },
  { name: 'posts', path: '/api/posts', upstream: 'posts' },
];

export interface MatchedRoute {
  name: string;
  upstream: UpstreamName;
  verifyToken: boolean;
  rateLimit?: RateLimitPolicy;
  bodyLimit: BodyLimitPolicy;
}

export interface RouteTable {
  match(path: string): MatchedRoute | undefined;
  /** The upstreams some row points at: only these are proxied to and health-checked. */
  upstreams(): UpstreamName[];
}

export function compileRoutes(rows: readonly RouteRow[]): RouteTable {
  const names = new Set<string>();
  const compiled = rows.map((row) => {
    if (names.has(row.name)) throw new Error(`duplicate route name ${row.name}`);
    names.add(row.name);
    const route: MatchedRoute = {
      name: row.name,
      upstream: row.upstream,
      verifyToken: row.verifyToken ?? true,
      rateLimit: row.rateLimit,
      bodyLimit: row.bodyLimit ?? 'default',
    };
    const test = typeof row.path === 'string' ? prefixTest(row.path) : patternTest(row.name, row.path);
    return { route, test };
  });
  return {
    match(path) {
      const lower = path.toLowerCase();
      for (const c of compiled) if (c.test(lower)) return c.route;
      return undefined;
    },
    upstreams: () => [...new Set(compiled.map((c) => c.route.upstream))],
  };
}

function patternTest(name: string, pattern: RegExp): (path: string) => boolean {
  // A global or sticky RegExp keeps state between calls and would match every other request.
  if (pattern.global || pattern.sticky)
    throw new Error(`route ${name}: pattern must not use the g or y flag`);
  return (path) => pattern.test(path);
}

function prefixTest(prefix: string): (path: string) => boolean {
  const p = prefix.toLowerCase().replace(/\/+$/, '');
  const withSlash = `${p}/`;
  return (path) => path === p || path.startsWith(withSlash);
}
