import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { DOCS_CSP, defaultDocumentFile, docsRoutes } from '../src/http/docs';
import { startEchoUpstream, type EchoUpstream } from './support/upstream';
import { redisClient, startGateway, type RunningGateway } from './support/gateway';
import { send } from './support/http';
import { startJwksServer, signingKey, type JwksServer } from './support/tokens';

let redis: Redis;
let upstream: EchoUpstream;
let jwks: JwksServer;
let gateway: RunningGateway;

beforeAll(async () => {
  redis = redisClient();
  upstream = await startEchoUpstream();
  jwks = await startJwksServer([signingKey('k1').jwk]);
  gateway = await startGateway({ upstreams: { auth: upstream.url }, jwksUrl: jwks.url, redis });
});

afterAll(async () => {
  await gateway.close();
  await upstream.close();
  await jwks.close();
  await redis.quit();
});

describe('GET /api/openapi.json', () => {
  it('serves the shipped OpenAPI 3.1 document, cacheable and revalidated by ETag', async () => {
    const res = await send(gateway.url, '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    const doc = res.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc).toEqual(JSON.parse(readFileSync(defaultDocumentFile(), 'utf8')));

    const again = await send(gateway.url, '/api/openapi.json', {
      headers: { 'if-none-match': String(res.headers.etag) },
    });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('is answered by the gateway, never proxied', async () => {
    upstream.received.length = 0;
    await send(gateway.url, '/api/openapi.json');
    expect(upstream.received).toHaveLength(0);
  });
});

describe('GET /docs', () => {
  it('serves a page that loads only same-origin scripts and styles, under a self-only CSP', async () => {
    const res = await send(gateway.url, '/docs');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toBe(DOCS_CSP);
    expect(DOCS_CSP).not.toMatch(/unsafe|https?:|\*/);
    const html = res.body.toString();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(4);
    for (const ref of refs) expect(ref).toMatch(/^\/docs\/assets\//);
    expect(html).not.toMatch(/<script>|<style|style=/);
    for (const ref of refs) {
      const asset = await send(gateway.url, ref);
      expect({ ref, status: asset.status }).toEqual({ ref, status: 200 });
      expect(asset.body.length).toBeGreaterThan(0);
    }
  });

  it('points the renderer at the document and at no outside validator', async () => {
    const init = (await send(gateway.url, '/docs/assets/init.js')).body.toString();
    expect(init).toContain('"/api/openapi.json"');
    expect(init).toContain('validatorUrl: null');
  });

  it('serves only the renderer files it names, whatever the path asks for', async () => {
    for (const p of ['/docs/assets/package.json', '/docs/assets/index.html', '/docs/assets/constructor']) {
      const res = await send(gateway.url, p);
      expect({ p, status: res.status }).toEqual({ p, status: 404 });
      expect(res.json()).toMatchObject({ error: 'route not found', code: 'NOT_FOUND' });
    }
    // An encoded slash or dot never reaches a route at all.
    for (const p of ['/docs/assets/..%2fpackage.json', '/docs/assets/%2e%2e%2f%2e%2e%2fpackage.json']) {
      const res = await send(gateway.url, p);
      expect({ p, status: res.status }).toEqual({ p, status: 400 });
      expect(res.json()).toMatchObject({ error: 'malformed request path', code: 'BAD_REQUEST' });
    }
  });
});

describe('docsRoutes', () => {
  it('refuses to start with a document that is not JSON', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mpb-docs-'));
    const file = path.join(dir, 'openapi.json');
    writeFileSync(file, '{"openapi": "3.1.0",');
    expect(() => docsRoutes({ documentFile: file })).toThrow(SyntaxError);
  });

  it('refuses to start without the renderer files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mpb-docs-'));
    expect(() => docsRoutes({ rendererDir: dir })).toThrow(/renderer file missing/);
  });
});
