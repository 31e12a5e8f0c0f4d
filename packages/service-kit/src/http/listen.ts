import http from 'node:http';
import type { Express } from 'express';
import { closeKeepAliveOnShutdown } from './graceful';

export interface HttpServerHandle {
  server: http.Server;
  port: number;
  /** Stops accepting, lets in-flight requests finish, then closes idle keep-alive sockets. */
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Longest time a whole request may take; uploads need more than the default. */
  requestTimeoutMs?: number;
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
  const beginClosing = closeKeepAliveOnShutdown(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve) => {
        beginClosing();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
