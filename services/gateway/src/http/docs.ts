import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Router, type Response } from 'express';
import { notFound } from '@mpb/errors';

/**
 * The API's OpenAPI document at `/api/openapi.json` and its rendered pages at `/docs`. The renderer
 * (Swagger UI) is served from the gateway's own node_modules: the page loads nothing from another
 * host, and its Content-Security-Policy says so.
 */

export const DOCUMENT_PATH = '/api/openapi.json';
export const DOCS_PATH = '/docs';
const ASSETS_PATH = `${DOCS_PATH}/assets`;

/** Whitelisted by name, so the route can never read another file. */
const RENDERER_FILES: Record<string, string> = {
  'swagger-ui-bundle.js': 'swagger-ui-bundle.js',
  'swagger-ui.css': 'swagger-ui.css',
  'favicon-32x32.png': 'favicon-32x32.png',
};

/** Swagger UI sets styles through the DOM and draws its icons as data: SVGs; nothing else is needed. */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>MPB Blog Platform API</title>
    <link rel="icon" type="image/png" href="${ASSETS_PATH}/favicon-32x32.png" />
    <link rel="stylesheet" href="${ASSETS_PATH}/swagger-ui.css" />
  </head>
  <body>
    <div id="api-docs"></div>
    <script src="${ASSETS_PATH}/swagger-ui-bundle.js"></script>
    <script src="${ASSETS_PATH}/init.js"></script>
  </body>
</html>
`;

// No validator badge (it would call an outside service) and no "try it out" by default.
const INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(DOCUMENT_PATH)},
    dom_id: '#api-docs',
    validatorUrl: null,
    deepLinking: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
  });
});
`;

const DOCUMENT_CACHE = 'public, max-age=300';
const ASSET_MAX_AGE_MS = 24 * 3600 * 1000;

export interface DocsOptions {
  /** The OpenAPI document; default `openapi/openapi.json` of the gateway package. */
  documentFile?: string;
  /** Where Swagger UI's files are; default the installed `swagger-ui-dist`. */
  rendererDir?: string;
}

/** The gateway package's root: the nearest folder with a package.json (from src/ in tests, dist/src/ when built). */
function packageRoot(from: string): string {
  let dir = from;
  for (let i = 0; i < 5; i += 1) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`no package.json above ${from}`);
}

export const defaultDocumentFile = (): string => path.join(packageRoot(__dirname), 'openapi', 'openapi.json');

const etagOf = (body: string | Buffer): string =>
  `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;

/** Answers a fixed body with a strong ETag, so a client's revalidation costs a 304. */
function sendCached(res: Response, type: string, body: string, etag: string, cacheControl: string): void {
  res.type(type).set('Cache-Control', cacheControl).set('ETag', etag).send(body);
}

export function docsRoutes(o: DocsOptions = {}): Router {
  const documentFile = o.documentFile ?? defaultDocumentFile();
  // Parsed once at start-up so a broken document stops the gateway rather than a client's page.
  const document = JSON.stringify(JSON.parse(readFileSync(documentFile, 'utf8')));
  const rendererDir = o.rendererDir ?? path.dirname(require.resolve('swagger-ui-dist/swagger-ui-bundle.js'));
  for (const file of Object.values(RENDERER_FILES)) {
    if (!existsSync(path.join(rendererDir, file))) throw new Error(`docs renderer file missing: ${file}`);
  }
  const tags = { document: etagOf(document), page: etagOf(PAGE), init: etagOf(INIT) };

  const router = Router();
  router.get(DOCUMENT_PATH, (_req, res) => {
    sendCached(res, 'application/json', document, tags.document, DOCUMENT_CACHE);
  });
  router.get(DOCS_PATH, (_req, res) => {
    res.set('Content-Security-Policy', DOCS_CSP);
    sendCached(res, 'html', PAGE, tags.page, 'no-cache');
  });
  router.get(`${ASSETS_PATH}/init.js`, (_req, res) => {
    sendCached(res, 'text/javascript', INIT, tags.init, 'no-cache');
  });
  router.get(`${ASSETS_PATH}/:file`, (req, res, next) => {
    const file = Object.hasOwn(RENDERER_FILES, req.params.file) ? RENDERER_FILES[req.params.file] : undefined;
    if (!file) {
      next(notFound('route not found'));
      return;
    }
    res.sendFile(file, { root: rendererDir, maxAge: ASSET_MAX_AGE_MS, dotfiles: 'deny' }, (err) => {
      if (err) next(err);
    });
  });
  return router;
}
