import type { Server, ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';

export interface GracefulCloseOptions {
  /**
   * Once closing, a connection is closed after it has stayed idle this long. A client that is using
   * the connection sends its next request well within it and gets `Connection: close` with the answer.
   */
  idleGraceMs: number;
}

interface Connection {
  /** Requests on it whose response has not finished yet. */
  active: number;
  /** When its last response finished (or it was accepted). */
  idleSince: number;
}

/**
 * Closes a server without resetting a connection its clients are using (load balancers and the
 * gateway keep connections alive and may send on one at any moment).
 *
 * Node's own close() destroys every connection idle at that moment: a request the client is sending
 * on one of them meets a reset. Instead, the listening socket is closed (new connections are refused),
 * every request still arriving on an open connection is answered normally with `Connection: close`,
 * and a connection is closed only once it has been idle for `idleGraceMs`. A response already under
 * way with keep-alive leaves its connection idle afterwards, which the same grace then closes.
 *
 * Returns close(): it resolves once every connection is gone, at once when there are none. It does not
 * bound in-flight requests (requestTimeout does, and the shutdown deadline above it).
 */
export function gracefulClose(server: Server, o: GracefulCloseOptions): () => Promise<void> {
  const connections = new Map<Socket, Connection>();
  const inFlight = new Set<ServerResponse>();
  let closing: Promise<void> | undefined;

  server.on('connection', (socket: Socket) => {
    connections.set(socket, { active: 0, idleSince: Date.now() });
    socket.once('close', () => connections.delete(socket));
  });
  // First in line, so that even a response the app sends synchronously is already marked.
  server.prependListener('request', (req, res: ServerResponse) => {
    const connection = connections.get(req.socket);
    if (connection) {
      connection.active += 1;
      res.once('close', () => {
        connection.active -= 1;
        connection.idleSince = Date.now();
      });
    }
    if (closing) {
      res.shouldKeepAlive = false;
      return;
    }
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });

  const closeIdle = () => {
    const now = Date.now();
    for (const [socket, c] of connections)
      if (c.active === 0 && now - c.idleSince >= o.idleGraceMs) socket.destroy();
  };

  return () => {
    closing ??= new Promise<void>((resolve) => {
      for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
      const sweep = setInterval(closeIdle, Math.min(100, Math.max(10, o.idleGraceMs / 4)));
      sweep.unref();
      server.once('close', () => {
        clearInterval(sweep);
        resolve();
      });
      // net's close, not http's: http's would also destroy every idle connection right away.
      net.Server.prototype.close.call(server);
      closeIdle();
    });
    return closing;
  };
}
