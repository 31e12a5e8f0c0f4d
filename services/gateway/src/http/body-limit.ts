import type { IncomingMessage, ServerResponse } from 'node:http';
import { payloadTooLarge } from '@mpb/errors';

export const BODY_TOO_LARGE = 'request body too large';

/** A declared length over the limit is refused before a byte of the body is read. */
export function assertDeclaredLengthWithin(req: IncomingMessage, limitBytes: number): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) throw payloadTooLarge(BODY_TOO_LARGE);
}

export function hasBody(req: IncomingMessage): boolean {
  const declared = req.headers['content-length'];
  return (declared !== undefined && declared !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** Only a body without a declared length (chunked) needs counting: Node enforces a declared one. */
export function needsCounting(req: IncomingMessage): boolean {
  return req.headers['content-length'] === undefined && req.headers['transfer-encoding'] !== undefined;
}

/**
 * Counts the body's bytes as they stream through and calls `onOver` once when the limit is passed.
 * The stream is paused before the listener goes on, so no chunk flows before the proxy pipes it:
 * the proxy's pipe resumes it and both see every chunk.
 */
export function watchBodySize(req: IncomingMessage, limitBytes: number, onOver: () => void): void {
  let seen = 0;
  let over = false;
  req.pause();
  req.on('data', (chunk: Buffer) => {
    if (over) return;
    seen += chunk.length;
    if (seen > limitBytes) {
      over = true;
      onOver();
    }
  });
}

/**
 * For a request refused while its body is still arriving. Closing the connection at once would
 * make the client's next write meet a reset, and many clients then report the reset instead of
 * the answer. So the answer goes out, the rest of the body is read and dropped for a short while
 * (a lingering close), and only a body still not finished by then gets its connection closed.
 */
export function lingerThenClose(req: IncomingMessage, res: ServerResponse, lingerMs = 2000): void {
  if (req.complete) return;
  res.once('finish', () => {
    if (req.complete) return;
    req.resume();
    const timer = setTimeout(() => req.socket.destroy(), lingerMs);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
  });
}
