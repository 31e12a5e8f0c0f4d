import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import net from 'node:net';

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

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  ms: number;
}

/**
 * Writes `head` (request line and headers, without the blank line) and `body` byte for byte on a
 * fresh connection, as no HTTP client would, and resolves with the answer as soon as it is whole
 * (Content-Length) or the connection closes. Rejects when the connection closes without a status
 * line: an empty reply.
 */
export function rawExchange(base: string, head: string, body: Buffer | string = ''): Promise<RawReply> {
  const url = new URL(base);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let text = '';
    let done = false;
    const parse = (closed: boolean) => {
      if (done) return;
      const reply = parseReply(text, closed);
      if (reply === 'incomplete') {
        if (closed) {
          done = true;
          reject(new Error(`empty reply to ${head.split('\r\n')[0]?.slice(0, 80)}`));
        }
        return;
      }
      done = true;
      socket.destroy();
      resolve({ ...reply, ms: Date.now() - started });
    };
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      parse(false);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => parse(true));
    socket.write(`${head}\r\nconnection: close\r\n\r\n`);
    socket.write(body);
  });
}

export interface HalfClosedReply extends RawReply {
  /** Milliseconds from the client's FIN until the server closed the connection. */
  closedAfterFinMs: number;
}

/**
 * Writes `parts` byte for byte on a fresh connection, then half-closes it: `socket.end()` sends a
 * FIN, after which the client can no longer write but still reads. Resolves with the answer once
 * the server closes the connection, which it must do after answering; rejects on a close without
 * a status line (an empty reply), or when the server has not closed within `waitMs`.
 */
export function halfClosedExchange(
  base: string,
  parts: Array<Buffer | string>,
  o: { waitMs?: number } = {},
): Promise<HalfClosedReply> {
  const url = new URL(base);
  const started = Date.now();
  const waitMs = o.waitMs ?? 3000;
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let text = '';
    let finAt = Date.now();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`not closed within ${waitMs} ms; got ${JSON.stringify(text.slice(0, 200))}`));
    }, waitMs);
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const reply = parseReply(text, true);
      if (reply === 'incomplete') {
        const line = String(parts[0] ?? '')
          .split('\r\n')[0]
          ?.slice(0, 80);
        reject(new Error(`empty reply to ${line}`));
        return;
      }
      resolve({ ...reply, ms: Date.now() - started, closedAfterFinMs: Date.now() - finAt });
    });
    for (const part of parts) socket.write(part);
    socket.end(() => {
      finAt = Date.now();
    });
  });
}

/** The status, headers and body of one HTTP/1.1 answer in `text`, once it is whole (or `closed`). */
function parseReply(text: string, closed: boolean): Omit<RawReply, 'ms'> | 'incomplete' {
  const match = /^HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
  if (!match) return 'incomplete';
  const headers: Record<string, string> = {};
  for (const line of match[2]!.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const length = Number(headers['content-length']);
  let rest = match[3]!;
  if (!closed && !(Buffer.byteLength(rest, 'latin1') >= length)) return 'incomplete';
  if (headers['transfer-encoding'] === 'chunked') rest = dechunk(rest);
  return { status: Number(match[1]), headers, body: rest };
}

function dechunk(text: string): string {
  let rest = text;
  let out = '';
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}
