import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the stand-in service saw of one request. */
export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** False when the request body never finished (aborted by the gateway or the client). */
  complete: boolean;
  /** True when the gateway closed the connection before this request was answered. */
  cancelled: boolean;
}

export interface EchoUpstream {
  url: string;
  received: Received[];
  /** What GET /readyz answers. */
  readyStatus: number;
  /** How many times GET /readyz was asked. */
  readyCalls: number;
  close(): Promise<void>;
}

/**
 * A small real HTTP service standing in for auth: it records each request (method, path, headers,
 * raw body) and answers with a JSON echo. Paths containing `/__hang` are never answered; paths
 * containing `/__stall` send headers and half a body, then go silent.
 */
export async function startEchoUpstream(): Promise<EchoUpstream> {
  const received: Received[] = [];
  const state: EchoUpstream = {
    url: '',
    received,
    readyStatus: 200,
    readyCalls: 0,
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    if (req.url === '/readyz') {
      state.readyCalls += 1;
      res
        .writeHead(state.readyStatus, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: state.readyStatus === 200 ? 'ok' : 'unavailable' }));
      return;
    }
    const chunks: Buffer[] = [];
    const entry: Received = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.alloc(0),
      complete: false,
      cancelled: false,
    };
    received.push(entry);
    res.once('close', () => {
      if (!res.writableFinished) entry.cancelled = true;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      entry.body = Buffer.concat(chunks);
      entry.complete = true;
      if (entry.url.includes('/__hang')) return;
      if (entry.url.includes('/__stall')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '100' });
        res.write(Buffer.alloc(50));
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-powered-by': 'stand-in',
        'access-control-allow-origin': '*',
      });
      res.end(
        JSON.stringify({
          method: entry.method,
          url: entry.url,
          headers: entry.headers,
          bodyLength: entry.body.length,
        }),
      );
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return state;
}

/** A port nothing listens on: a stand-in for a service that is down. */
export { closedPort } from '@mpb/test-kit';
