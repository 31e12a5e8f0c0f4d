import type { Server, ServerResponse } from 'node:http';

/**
 * Makes a server's close() finish once in-flight requests are answered, even with keep-alive
 * clients (load balancers always are). Node's close() only closes connections idle at that moment:
 * one that finishes its request afterwards stays open until the client leaves or the 65 s
 * keep-alive timeout passes, which would push every shutdown past its deadline. Once closing,
 * responses say `Connection: close` and connections left idle are closed.
 * Returns the function that starts closing; call it just before close().
 */
export function closeKeepAliveOnShutdown(server: Server): () => void {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  // First in line, so that even a response the app sends synchronously is already marked.
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (closing) {
      res.shouldKeepAlive = false;
      return;
    }
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });
  return () => {
    closing = true;
    for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
    // A response already under way keeps its connection; close it as soon as it falls idle.
    const timer = setInterval(() => server.closeIdleConnections(), 200);
    timer.unref();
    server.once('close', () => clearInterval(timer));
  };
}
