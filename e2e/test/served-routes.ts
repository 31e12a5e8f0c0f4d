import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The public routes the platform really serves, read from the code rather than from a list kept by
 * hand: every service's built Express app (the same dist/ the e2e platform runs), kept where the
 * gateway's own routing table sends that path to that service, plus the gateway's own routes.
 * Building an app only closes over its dependencies, so the services get inert stand-ins: nothing
 * is called while the routes are read.
 */

export interface ServedRoute {
  method: string;
  /** In OpenAPI form: `/api/posts/{id}`. */
  path: string;
  /** Who serves it: a service name, or `gateway`. */
  servedBy: string;
}

const ROOT = path.resolve(__dirname, '../..');
const GATEWAY_DIR = path.join(ROOT, 'services/gateway');

/** The kit's probes (not routed by the gateway, and internal on the gateway's own port) and the HTML pages. */
const GATEWAY_NOT_API = ['/livez', '/readyz', '/metrics'];
const GATEWAY_PAGES_PREFIX = '/docs';

interface ExpressRoute {
  path: unknown;
  methods: Record<string, boolean>;
}
interface ExpressLayer {
  route?: ExpressRoute;
  rawPath?: unknown;
  handle: { stack?: ExpressLayer[] };
}
interface ExpressApp {
  router: { stack: ExpressLayer[] };
}
interface RouteTable {
  match(path: string): { upstream: string } | undefined;
  upstreams(): string[];
}

/** Any property, call or construction answers another inert value; never a thenable. */
function inert(): unknown {
  const target = function inertValue() {
    return undefined;
  };
  return new Proxy(target, {
    get: (_t, key) => {
      if (key === 'then') return undefined;
      if (key === Symbol.toPrimitive) return () => 'inert';
      return inert();
    },
    apply: () => inert(),
    construct: () => inert() as object,
  });
}

/** Every (method, Express path) of an app, through routers mounted at the root. */
export function routesOf(app: ExpressApp, where: string): Array<{ method: string; path: string }> {
  const found: Array<{ method: string; path: string }> = [];
  const walk = (stack: ExpressLayer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        if (typeof layer.route.path !== 'string')
          throw new Error(
            `${where}: route path ${String(layer.route.path)} is not a string; teach served-routes.ts`,
          );
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== '_all') found.push({ method: method.toUpperCase(), path: layer.route.path });
        }
      } else if (layer.handle.stack) {
        if (layer.rawPath !== '/' && layer.rawPath !== undefined)
          throw new Error(`${where}: a router mounted at ${String(layer.rawPath)}; teach served-routes.ts`);
        walk(layer.handle.stack);
      }
    }
  };
  walk(app.router.stack);
  return found;
}

/** `/api/posts/:id` → `/api/posts/{id}`. */
export const toOpenApiPath = (expressPath: string): string => expressPath.replace(/:(\w+)/g, '{$1}');
/** A concrete path the gateway's table can be asked about: `/api/posts/:id` → `/api/posts/1`. */
const samplePath = (expressPath: string): string => expressPath.replace(/:\w+/g, '1');

function loadDist<T>(dir: string, file: string): T {
  const full = path.join(dir, 'dist/src', file);
  if (!existsSync(full))
    throw new Error(`${full} is missing: build the workspaces first (pnpm exec turbo run build)`);
  return createRequire(full)(full) as T;
}

function gatewayApp(): { app: ExpressApp; close: () => void } {
  const requireFromGateway = createRequire(path.join(GATEWAY_DIR, 'package.json'));
  const { createGatewayApp } = loadDist<{ createGatewayApp(deps: unknown): ExpressApp }>(
    GATEWAY_DIR,
    'http/app.js',
  );
  const { loadGatewayConfig, gatewaySettings } = loadDist<{
    loadGatewayConfig(env: Record<string, string>): unknown;
    gatewaySettings(config: unknown): unknown;
  }>(GATEWAY_DIR, 'config.js');
  const { createUpstreams, closeUpstreams } = loadDist<{
    createUpstreams(urls: Record<string, string>, o: { maxSockets: number }): unknown;
    closeUpstreams(u: unknown): void;
  }>(GATEWAY_DIR, 'http/upstreams.js');
  const { UPSTREAM_NAMES } = loadDist<{ UPSTREAM_NAMES: string[] }>(GATEWAY_DIR, 'http/routes.js');
  const { createMetrics } = requireFromGateway('@mpb/service-kit') as { createMetrics(s: string): unknown };
  const { createLogger } = requireFromGateway('@mpb/logger') as {
    createLogger(o: { service: string; level: string }): unknown;
  };
  // Agents only: nothing connects until a request is proxied.
  const upstreams = createUpstreams(
    Object.fromEntries(UPSTREAM_NAMES.map((n) => [n, 'http://127.0.0.1:1'])),
    {
      maxSockets: 1,
    },
  );
  const app = createGatewayApp({
    logger: createLogger({ service: 'served-routes', level: 'silent' }),
    metrics: createMetrics('gateway'),
    redis: inert(),
    verifier: inert(),
    upstreams,
    settings: gatewaySettings(loadGatewayConfig({})),
  });
  return { app, close: () => closeUpstreams(upstreams) };
}

/** Every method and path a client can reach through the gateway, with who serves it. */
export function servedPublicRoutes(): ServedRoute[] {
  const { compileRoutes, ROUTES } = loadDist<{ compileRoutes(rows: unknown): RouteTable; ROUTES: unknown }>(
    GATEWAY_DIR,
    'http/routes.js',
  );
  const table = compileRoutes(ROUTES);
  const served: ServedRoute[] = [];

  const gateway = gatewayApp();
  try {
    for (const r of routesOf(gateway.app, 'gateway')) {
      if (GATEWAY_NOT_API.includes(r.path) || r.path.startsWith(GATEWAY_PAGES_PREFIX)) continue;
      served.push({ method: r.method, path: toOpenApiPath(r.path), servedBy: 'gateway' });
    }
  } finally {
    gateway.close();
  }

  // Only the services some row of the table points at are reachable at all.
  for (const service of table.upstreams()) {
    const dir = path.join(ROOT, 'services', service);
    const { createHttpApp } = loadDist<{ createHttpApp(deps: unknown): ExpressApp }>(dir, 'http/app.js');
    for (const r of routesOf(createHttpApp(inert()), service)) {
      if (table.match(samplePath(r.path))?.upstream !== service) continue;
      served.push({ method: r.method, path: toOpenApiPath(r.path), servedBy: service });
    }
  }
  return served;
}
