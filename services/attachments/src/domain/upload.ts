import { randomUUID } from 'node:crypto';
import { badRequest, isAppError, notFound, payloadTooLarge, unavailable, unsupportedMediaType } from '@mpb/errors';
import { errorFields, type Logger } from '@mpb/logger';
import type { Attachment, Parent } from './attachment';
import { sanitizeFileName } from './file-name';
import { nameContradicts, PlainTextCheck, SNIFF_BYTES, sniffType } from './file-type';
import { Messages, notFoundMessage } from './messages';
import type { AttachmentStore, ObjectStore } from './ports';
import { limitMessages, type UploadLimits } from './upload-limits';

/** A file as the transport hands it over: the client's name and its bytes as they arrive. */
export interface IncomingFile {
  fileName: string | undefined;
  /** The file's bytes in order; the transport fails them with an AppError (a limit, a broken body). */
  chunks: AsyncIterable<Buffer>;
  /** True once the transport stopped the file at its own per-file limit (read after the last chunk). */
  truncated(): boolean;
}

/** A row created by this request, with the object it points at. */
interface Written {
  id: number;
  key: string;
  size: number;
}

/** A database failure during an upload: the client is told to retry, nothing half-written stays. */
export const databaseDown = (err: unknown) =>
  isAppError(err) ? err : unavailable(Messages.databaseUnavailable, { cause: err });
export const storageDown = (err: unknown) =>
  isAppError(err) ? err : unavailable(Messages.storageUnavailable, { cause: err });

export interface UploaderDeps {
  store: AttachmentStore;
  objects: ObjectStore;
  logger: Logger;
  limits: UploadLimits;
  keyPrefix: string;
}

/**
 * Stores the files of one request, or none: each gets a `pending` row and a server-generated key,
 * is streamed to the object store while it is typed, counted and checked, and all become `ready`
 * in one statement at the end. Any failure removes what this request wrote (what cannot be removed
 * now stays pending, hidden, for reconciliation).
 */
export class Uploader {
  constructor(private readonly d: UploaderDeps) {}

  async upload(parent: Parent, userId: number, files: AsyncIterable<IncomingFile>): Promise<Attachment[]> {
    const written: Written[] = [];
    const budget = { requestBytes: 0 };
    try {
      for await (const file of files) {
        await this.storeOne(parent, userId, file, written, budget);
      }
      if (written.length === 0) return [];
      const ready = await this.d.store
        .markReady(written.map(({ id, size }) => ({ id, size })))
        .catch((err: unknown) => {
          throw databaseDown(err);
        });
      // A cascade took some rows while the files were streaming: the parent is gone.
      if (ready.length !== written.length) throw notFound(notFoundMessage(parent.kind));
      return ready;
    } catch (err) {
      await this.discard(written);
      throw err;
    }
  }

  private keyOf(parent: Parent): string {
    return `${this.d.keyPrefix}${parent.kind}s/${parent.id}/${randomUUID()}`;
  }

  private async storeOne(
    parent: Parent,
    userId: number,
    file: IncomingFile,
    written: Written[],
    budget: { requestBytes: number },
  ): Promise<void> {
    const { limits } = this.d;
    const fileName = sanitizeFileName(file.fileName);
    const chunks = file.chunks[Symbol.asyncIterator]();

    const headChunks: Buffer[] = [];
    let headBytes = 0;
    let ended = false;
    while (headBytes < SNIFF_BYTES) {
      const next = await chunks.next();
      if (next.done) {
        ended = true;
        break;
      }
      headChunks.push(next.value);
      headBytes += next.value.length;
    }
    if (headBytes === 0) throw badRequest(`file "${fileName}" is empty`);
    const fileType = sniffType(Buffer.concat(headChunks).subarray(0, SNIFF_BYTES));
    if (!fileType)
      throw unsupportedMediaType(`file "${fileName}" is not an allowed type (${Messages.allowedTypes})`);
    if (nameContradicts(fileName, fileType))
      throw unsupportedMediaType(
        `file "${fileName}" does not hold what its name says: its content is ${fileType}`,
      );

    const objectKey = this.keyOf(parent);
    const inserted = await this.d.store
      .insertPending({ parent, userId, objectKey, fileName, fileType })
      .catch((err: unknown) => {
        throw databaseDown(err);
      });
    if (inserted.outcome === 'parent_deleted') throw notFound(notFoundMessage(parent.kind));
    const entry: Written = { id: inserted.id, key: objectKey, size: 0 };
    written.push(entry);

    const text = fileType === 'text/plain' ? new PlainTextCheck() : undefined;
    const notText = () =>
      unsupportedMediaType(`file "${fileName}" is not valid plain text (UTF-8 without control characters)`);
    const check = (chunk: Buffer): void => {
      entry.size += chunk.length;
      budget.requestBytes += chunk.length;
      if (entry.size > limits.maxFileBytes) throw payloadTooLarge(limitMessages.file(fileName, limits));
      if (budget.requestBytes > limits.maxRequestBytes) throw payloadTooLarge(limitMessages.request(limits));
      if (text && !text.push(chunk)) throw notText();
    };
    // Why the file was refused (a check above, or the transport): what the client is told, rather
    // than how the object store's upload ended.
    let refused: unknown;
    async function* checked(): AsyncGenerator<Buffer> {
      try {
        for (const chunk of headChunks) {
          check(chunk);
          yield chunk;
        }
        while (!ended) {
          const next = await chunks.next();
          if (next.done) break;
          check(next.value);
          yield next.value;
        }
        if (file.truncated()) throw payloadTooLarge(limitMessages.file(fileName, limits));
        if (text && !text.end()) throw notText();
      } catch (err) {
        refused = err;
        throw err;
      }
    }
    // The object store reads the checked bytes as fast as it writes them; a refusal ends its upload
    // (its temporary file removed, nothing sent to S3) before the cleanup deletes the key.
    await this.d.objects.upload(objectKey, checked(), fileType).catch((err: unknown) => {
      throw refused ?? storageDown(err);
    });
  }

  /** Best effort: each object, then its row; a row whose object could not be deleted stays for reconciliation. */
  private async discard(written: Written[]): Promise<void> {
    const removable: number[] = [];
    for (const w of written) {
      try {
        await this.d.objects.delete(w.key);
        removable.push(w.id);
      } catch (err) {
        this.d.logger.warn(
          { key: w.key, ...errorFields(err) },
          'could not delete an object; reconciliation will',
        );
      }
    }
    if (removable.length === 0) return;
    await this.d.store.removeRows(removable).catch((err: unknown) => {
      this.d.logger.warn(
        { ids: removable, ...errorFields(err) },
        'could not delete pending rows; reconciliation will',
      );
    });
  }
}
