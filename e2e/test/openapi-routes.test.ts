import { readFileSync } from 'node:fs';
import path from 'node:path';
import { servedPublicRoutes, type ServedRoute } from './served-routes';

/**
 * The OpenAPI document the gateway ships names exactly the routes the platform serves: a route the
 * code serves but the document lacks fails here, and so does a documented route nobody serves.
 */

const DOCUMENT_FILE = path.resolve(__dirname, '../../services/gateway/openapi/openapi.json');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

interface Document {
  paths: Record<string, Record<string, unknown>>;
}

const document = JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8')) as Document;
const key = (method: string, p: string): string => `${method.toUpperCase()} ${p}`;

function documentedOperations(): string[] {
  const ops: string[] = [];
  for (const [p, item] of Object.entries(document.paths)) {
    for (const method of Object.keys(item)) if (METHODS.includes(method)) ops.push(key(method, p));
  }
  return ops;
}

describe('the OpenAPI document and the served routes', () => {
  let served: ServedRoute[];

  beforeAll(() => {
    served = servedPublicRoutes();
  });

  it('finds the routes of every routed service and of the gateway itself', () => {
    const by = new Set(served.map((r) => r.servedBy));
    for (const who of ['gateway', 'auth', 'posts', 'comments', 'metrics']) expect([...by]).toContain(who);
    expect(served.length).toBeGreaterThanOrEqual(25);
  });

  it('documents every route a client can reach', () => {
    const documented = new Set(documentedOperations());
    const missing = served
      .filter((r) => !documented.has(key(r.method, r.path)))
      .map((r) => `${key(r.method, r.path)} (served by ${r.servedBy})`);
    expect({ 'served but not in services/gateway/openapi/openapi.json': missing }).toEqual({
      'served but not in services/gateway/openapi/openapi.json': [],
    });
  });

  it('documents no route that nobody serves', () => {
    const real = new Set(served.map((r) => key(r.method, r.path)));
    const ghosts = documentedOperations().filter((op) => !real.has(op));
    expect({ 'documented but not served through the gateway': ghosts }).toEqual({
      'documented but not served through the gateway': [],
    });
  });

  it('names each path parameter of every documented path', () => {
    const problems: string[] = [];
    for (const [p, item] of Object.entries(document.paths)) {
      const inPath = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = ((item.parameters ?? []) as Array<{ $ref?: string; name?: string }>).length;
      if (inPath.length !== declared)
        problems.push(`${p}: ${inPath.length} in the path, ${declared} declared`);
    }
    expect(problems).toEqual([]);
  });
});
