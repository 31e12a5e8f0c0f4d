import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { badRequest, isAppError, payloadTooLarge, unsupportedMediaType, type AppError } from '@mpb/errors';
import type { IncomingFile } from '../domain/upload';
import { limitMessages, type UploadLimits } from '../domain/upload-limits';

/** Texts of the multipart answers, kept because clients match on them. */
export const MultipartMessages = {
  notMultipart: 'expected a multipart/form-data body with files in the field "files"',
  malformedMultipart: 'malformed multipart body',
  noFiles: 'no files in the field "files"',
} as const;

/** The field that carries files, as in the old API. Other parts (text fields, files in other fields) are skipped. */
export const FILES_FIELD = 'files';
/** Room for part headers and boundaries on top of MAX_REQUEST_BYTES of file content. */
export const MULTIPART_OVERHEAD_BYTES = 1024 * 1024;

export const isMultipart = (req: IncomingMessage): boolean =>
  /^multipart\/form-data\s*;/i.test(req.headers['content-type'] ?? '');

export const rawBodyLimit = (limits: UploadLimits): number =>
  limits.maxRequestBytes + MULTIPART_OVERHEAD_BYTES;

/**
 * 413 before a byte is read when the declared length is already too much. Returns the declared
 * length, undefined for a body of unknown length (chunked).
 */
export function assertDeclaredLength(req: IncomingMessage, limits: UploadLimits): number | undefined {
  if (!isMultipart(req)) throw unsupportedMediaType(MultipartMessages.notMultipart);
  const header = req.headers['content-length'];
  if (header === undefined) return undefined;
  const declared = Number(header);
  if (!Number.isFinite(declared)) return undefined;
  if (declared > rawBodyLimit(limits)) throw payloadTooLarge(limitMessages.request(limits));
  return declared;
}

export interface ReceivedFiles {
  /** The files of the field `files`, one at a time: the next arrives once the previous was read. */
  files: AsyncIterable<IncomingFile>;
  /** Stops reading the form; the rest of the body is read and dropped. */
  abort(): void;
}

/**
 * Streams a multipart body with busboy: nothing is buffered beyond the parser's own chunks. Limits
 * (file size, file count, parts, total bytes) and parse errors end the iteration with a 4xx error.
 */
export function receiveFiles(req: IncomingMessage, limits: UploadLimits): ReceivedFiles {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      defParamCharset: 'utf8',
      limits: {
        // One byte more than allowed: busboy marks a file that reaches its limit as truncated, so
        // the domain's own count decides, and a file of exactly MAX_FILE_BYTES passes.
        fileSize: limits.maxFileBytes + 1,
        files: limits.maxFiles,
        fields: 50,
        fieldSize: 8 * 1024,
        parts: limits.maxFiles + 50,
        headerPairs: 20,
      },
    });
  } catch {
    throw badRequest(MultipartMessages.malformedMultipart);
  }

  const queue: Array<IncomingFile | AppError | null> = [];
  let wake: (() => void) | undefined;
  let failed = false;
  let current: Readable | undefined;
  const push = (item: IncomingFile | AppError | null) => {
    queue.push(item);
    wake?.();
  };
  const fail = (err: AppError) => {
    if (failed) return;
    failed = true;
    current?.destroy(err);
    push(err);
  };

  parser.on('file', (field, stream, info) => {
    // Errors reach the reader through its iterator; without a listener they would crash the process.
    stream.on('error', () => undefined);
    if (failed || field !== FILES_FIELD) {
      stream.resume();
      return;
    }
    current = stream;
    stream.once('close', () => {
      if (current === stream) current = undefined;
    });
    push({ fileName: info.filename, chunks: chunksOf(stream), truncated: () => stream.truncated === true });
  });
  parser.on('filesLimit', () => fail(payloadTooLarge(limitMessages.files(limits))));
  parser.on('partsLimit', () => fail(payloadTooLarge('too many parts in the form')));
  parser.on('fieldsLimit', () => fail(payloadTooLarge('too many fields in the form')));
  parser.on('error', () => fail(badRequest(MultipartMessages.malformedMultipart)));
  parser.on('close', () => push(null));
  req.on('aborted', () => fail(badRequest('the upload was interrupted')));

  const counter = new ByteCounter(rawBodyLimit(limits), () =>
    fail(payloadTooLarge(limitMessages.request(limits))),
  );
  counter.on('error', () => undefined);
  req.pipe(counter).pipe(parser);

  async function* files(): AsyncGenerator<IncomingFile> {
    let given = 0;
    for (;;) {
      if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      const item = queue.shift();
      if (item === null || item === undefined) {
        if (given === 0) throw badRequest(MultipartMessages.noFiles);
        return;
      }
      if (item instanceof Error) throw item;
      given += 1;
      yield item;
    }
  }

  return {
    files: files(),
    abort() {
      failed = true;
      req.unpipe(counter);
      counter.unpipe(parser);
      current?.resume();
      req.resume();
    },
  };
}

/**
 * A file part's bytes as they arrive. A part fails with an AppError when a limit ended it; any other
 * failure is a broken body (400). No `return`: a reader that stops early leaves the part to `abort()`,
 * which drains it.
 */
function chunksOf(stream: Readable): AsyncIterable<Buffer> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return {
    [Symbol.asyncIterator]: () => ({
      next: () =>
        iterator.next().catch((err: unknown) => {
          throw isAppError(err) ? err : badRequest(MultipartMessages.malformedMultipart, { cause: err });
        }),
    }),
  };
}

/** Passes bytes through and reports once when more than `limit` went by. */
class ByteCounter extends Transform {
  private seen = 0;
  private over = false;

  constructor(
    private readonly limit: number,
    private readonly onOver: () => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      if (!this.over) {
        this.over = true;
        this.onOver();
      }
      done();
      return;
    }
    done(null, chunk);
  }
}
