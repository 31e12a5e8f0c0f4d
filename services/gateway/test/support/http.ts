import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  ms: number;
  json<T = Record<string, unknown>>(): T;
}

export interface SendOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  /** Sent with a Content-Length. */
  body?: Buffer | string;
  /** Sent one by one, `gapMs` apart: chunked unless the headers declare a Content-Length. */
  chunks?: Buffer[];
  gapMs?: number;
}

/**
 * One request over a fresh connection, resolved with the whole reply. Resolves as soon as the
 * reply is complete, even if the server answered before the client finished sending (413).
 */
export function send(base: string, path: string, o: SendOptions = {}): Promise<Reply> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = { ...o.headers };
    if (o.body !== undefined && headers['content-length'] === undefined)
      headers['content-length'] = Buffer.byteLength(o.body);
    const req = http.request(`${base}${path}`, { method: o.method ?? 'GET', headers, agent: false });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          ms: Date.now() - started,
          json: <T>() => JSON.parse(body.toString('utf8')) as T,
        });
        req.destroy();
      });
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (o.chunks) {
      void (async () => {
        for (const chunk of o.chunks ?? []) {
          if (answered || req.destroyed) return;
          req.write(chunk);
          if (o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs));
        }
        if (!answered && !req.destroyed) req.end();
      })();
    } else {
      req.end(o.body);
    }
  });
}
