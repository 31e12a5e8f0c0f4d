import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { PerClientCount } from './admission';

export interface ServerGuardOptions {
  /** Open connections one client address may hold; one more is answered 429 and closed. */
  maxConnectionsPerClient: number;
  /** Longest a new connection may take to send its first request head. */
  headersTimeoutMs: number;
  /** A connection from a trusted proxy carries many clients: it is not counted per address. */
  isTrustedProxy: (address: string) => boolean;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
};

/**
 * An answer written straight to a socket whose request never reached Express (unparsable,
 * too large a head, too slow): JSON like every other answer, then the connection is closed.
 */
export function endWithJson(socket: Socket, status: number, error: string, code: string): void {
  const pending = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (!socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error, code });
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * Connection-level bounds of the public server, beside the per-request ones in the app: how many
 * connections one address holds, how long a new connection may take to send its request head, a
 * JSON answer (never a bare close) for a request Node's parser refuses, and an answer for a client
 * that half-closes once its request is sent. Node's own
 * `headersTimeout` is checked only every 30 s; this timer covers a connection's first request
 * precisely, `headersTimeout` the later ones on a kept-alive connection.
 */
export function guardServer(server: Server, o: ServerGuardOptions): void {
  const connections = new PerClientCount(o.maxConnectionsPerClient);
  const firstRequest = new WeakMap<Socket, NodeJS.Timeout>();
  server.headersTimeout = Math.min(server.headersTimeout, o.headersTimeoutMs);
  answerHalfClosedClients(server);

  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    if (!o.isTrustedProxy(address)) {
      if (!connections.tryAcquire(address)) {
        endWithJson(socket, 429, 'too many connections from this client', 'RATE_LIMITED');
        return;
      }
      socket.once('close', () => connections.release(address));
    }
    const timer = setTimeout(() => {
      endWithJson(socket, 408, 'request head timed out', 'REQUEST_TIMEOUT');
    }, o.headersTimeoutMs);
    timer.unref();
    firstRequest.set(socket, timer);
    socket.once('close', () => clearTimeout(timer));
  });
  server.on('request', (req: { socket: Socket }) => {
    const timer = firstRequest.get(req.socket);
    if (timer) {
      clearTimeout(timer);
      firstRequest.delete(req.socket);
    }
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
      socket.destroy();
      return;
    }
    if (err.code === 'HPE_HEADER_OVERFLOW')
      endWithJson(socket, 431, 'request head too large', 'PAYLOAD_TOO_LARGE');
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
      endWithJson(socket, 408, 'request timed out', 'REQUEST_TIMEOUT');
    else endWithJson(socket, 400, 'malformed request', 'BAD_REQUEST');
  });
}

/**
 * A client may send its request and then half-close the connection (`socket.end()`, a FIN): it
 * can no longer write but still reads. A request is framed by its own length, never by the
 * connection closing, so a FIN after a whole request says only that nothing more is coming. Node's
 * server by default ends its own side as soon as the FIN arrives, so such a client got an empty
 * reply from every route that answers asynchronously (the proxy, /health, the rate limit and token
 * checks). With `httpAllowHalfOpen`, Node instead marks the response in progress (or the last
 * pipelined one) as the connection's last: the answer is written, then the connection is closed.
 * A FIN with no request in progress still closes it at once, and a FIN inside an unfinished
 * request is still a parse error (the `clientError` 400 above, then the close that aborts the
 * request and frees what it held). While it waits for its answer, a half-closed connection is
 * bounded by the same timeouts as any other. The property is undocumented but present on every
 * `http.Server` (Node's own tests and spdy set it); the half-close tests fail if a Node release
 * stops honouring it.
 */
function answerHalfClosedClients(server: Server): void {
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
}
