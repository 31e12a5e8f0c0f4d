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

export const BODY_TIMED_OUT = 'request body timed out';

/** How long a body may take to arrive. */
export interface BodyPace {
  /** Longest silence between two chunks. */
  idleMs: number;
  /** Longest a whole buffered body may take. */
  totalMs: number;
  /** A streamed body slower than this on average, after `idleMs`, is cut. */
  minBytesPerSecond: number;
}

export class BodyError extends Error {
  constructor(readonly kind: 'too-large' | 'timed-out' | 'aborted') {
    super(kind);
  }
}

/**
 * Reads a whole body into memory, bounded in size and time: a body over `limitBytes` rejects with
 * `too-large` at once, one silent for `idleMs` or not finished after `totalMs` with `timed-out`.
 * The gateway buffers the small JSON bodies this way before it takes an upstream connection, so a
 * client trickling its body holds nothing of a service.
 */
export function readBody(req: IncomingMessage, limitBytes: number, pace: BodyPace): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let seen = 0;
    let last = Date.now();
    const started = last;
    const finish = (err?: BodyError) => {
      clearInterval(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, seen));
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      last = Date.now();
      if (seen > limitBytes) {
        req.pause();
        finish(new BodyError('too-large'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onClose = () => {
      if (!req.complete) finish(new BodyError('aborted'));
    };
    const timer = setInterval(
      () => {
        const now = Date.now();
        if (now - last >= pace.idleMs || now - started >= pace.totalMs) {
          req.pause();
          finish(new BodyError('timed-out'));
        }
      },
      Math.max(50, Math.min(1000, pace.idleMs / 4)),
    );
    timer.unref();
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.once('error', onClose);
    req.resume();
  });
}

/**
 * For a body streamed to the service (uploads): calls `onSlow` once if the body goes silent for
 * `idleMs`, or averages less than `minBytesPerSecond` once `idleMs` has passed. Stops at the end
 * of the body or when the request closes.
 */
export function watchBodyPace(req: IncomingMessage, pace: BodyPace, onSlow: () => void): void {
  let seen = 0;
  let last = Date.now();
  const started = last;
  const stop = () => clearInterval(timer);
  const timer = setInterval(
    () => {
      const now = Date.now();
      const elapsed = now - started;
      const tooSlow = elapsed >= pace.idleMs && (seen * 1000) / elapsed < pace.minBytesPerSecond;
      if (now - last >= pace.idleMs || tooSlow) {
        stop();
        if (!req.complete) onSlow();
      }
    },
    Math.max(50, Math.min(1000, pace.idleMs / 4)),
  );
  timer.unref();
  // Paused before the listener goes on, as in watchBodySize: the proxy's pipe resumes it.
  req.pause();
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    last = Date.now();
  });
  req.once('end', stop);
  req.once('close', stop);
}
