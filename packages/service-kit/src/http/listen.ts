import http from 'node:http';
import type { Express } from 'express';
import { gracefulClose } from './graceful';

export interface HttpServerHandle {
  server: http.Server;
  port: number;
  /**
   * Stops accepting, answers what still arrives on open connections with `Connection: close`, and
   * resolves once every connection is closed (one left idle is closed after `shutdownIdleGraceMs`).
   */
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Longest time a whole request may take; uploads need more than the default. */
  requestTimeoutMs?: number;
  /**
   * While closing, how long a keep-alive connection must stay idle before it is closed: a client
   * using it sends its next request within this and gets `Connection: close` with the answer,
   * instead of meeting a reset. Default 1000 ms.
   */
  shutdownIdleGraceMs?: number;
}

export async function listen(
  app: Express,
  port: number,
  host = '127.0.0.1',
  o: ListenOptions = {},
): Promise<HttpServerHandle> {
  const server = http.createServer(app);
  // Longer than typical proxy idle timeouts so a keep-alive upstream never races a closing socket.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = o.requestTimeoutMs ?? 60_000;
  const close = gracefulClose(server, { idleGraceMs: o.shutdownIdleGraceMs ?? 1000 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    port: actualPort,
    close,
  };
}
