import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import {
  badRequest,
  forbidden,
  isAppError,
  notFound,
  payloadTooLarge,
  unavailable,
  unsupportedMediaType,
} from '@mpb/errors';
import { errorFields, type Logger } from '@mpb/logger';
import type { PageRequest } from '@mpb/service-kit';
import type { Attachment, Parent, ParentKind } from './attachment';
import { sanitizeFileName } from './file-name';
import { nameContradicts, PlainTextCheck, SNIFF_BYTES, sniffType } from './file-type';
import type { UploadAdmission } from './upload-admission';
import type {
  AttachmentStore,
  ObjectStore,
  OwnerDirectory,
  ParentLivenessMemory,
  StoredObject,
} from './ports';

export const SERVICE_NAME = 'attachments';

/** Texts of the old API where it had them, and of this service's additions. */
export const Messages = {
  attachmentNotFound: 'attachment not found',
  postNotFound: 'post not found',
  commentNotFound: 'comment not found',
  postsUnavailable: 'posts service unavailable',
  commentsUnavailable: 'comments service unavailable',
  uploadForbidden: {
    post: 'you can attach files only to your own posts',
    comment: 'you can attach files only to your own comments',
  },
  deleteForbidden: 'you can delete only your own attachments',
  invalidPostId: 'invalid post id',
  invalidCommentId: 'invalid comment id',
  invalidAttachmentId: 'invalid attachment id',
  storageUnavailable: 'file storage unavailable',
  databaseUnavailable: 'attachment database unavailable',
  notMultipart: 'expected a multipart/form-data body with files in the field "files"',
  malformedMultipart: 'malformed multipart body',
  noFiles: 'no files in the field "files"',
  allowedTypes: 'PNG, JPEG, GIF, WebP, PDF or plain text',
} as const;

export const notFoundMessage = (kind: ParentKind): string =>
  kind === 'post' ? Messages.postNotFound : Messages.commentNotFound;

export interface UploadLimits {
  maxFileBytes: number;
  maxFiles: number;
  maxRequestBytes: number;
}

/** `10 MiB` when it is a whole number of MiB or KiB, else bytes. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

export const limitMessages = {
  file: (name: string, l: UploadLimits) =>
    `file "${name}" is larger than the limit of ${formatBytes(l.maxFileBytes)}`,
  request: (l: UploadLimits) =>
    `the files of one request may total at most ${formatBytes(l.maxRequestBytes)}`,
  files: (l: UploadLimits) => `too many files: at most ${l.maxFiles} per request`,
};

/** A file as the transport hands it over: the client's name and its bytes as they arrive. */
export interface IncomingFile {
  fileName: string | undefined;
  /** `truncated` is set by a parser that stopped at the per-file limit. */
  stream: Readable & { truncated?: boolean };
}

export interface AttachmentsServiceDeps {
  store: AttachmentStore;
  objects: ObjectStore;
  owners: OwnerDirectory;
  logger: Logger;
  limits: UploadLimits;
  /** Prepended to every object key (a shared bucket, or a test's own corner of it). */
  keyPrefix?: string;
  /** Rows handled per cascade transaction and per reconciliation batch. */
  batchSize?: number;
  /** Most rows an unpaged list returns (the old API's whole list). Default 1000. */
  listLimit?: number;
  /** Per-user and spool limits on uploads in flight; without it only the per-request limits apply. */
  admission?: UploadAdmission;
  /** What reads remember of parents' liveness; without it every read that needs to know asks. */
  parentLiveness?: ParentLivenessMemory;
}

/** No memory: every question goes to the owner service. */
const askEveryTime: ParentLivenessMemory = {
  known: () => undefined,
  isLive: (_key, ask) => ask(),
  markGone: () => undefined,
};

const livenessKey = (p: Parent): string => `${p.kind}:${p.id}`;

export interface RequestContext {
  requestId?: string;
}

/** What reconciliation removed. */
export interface ReconcileReport {
  staleRows: number;
  orphanObjects: number;
}

/** A row created by this request, with the object it points at. */
interface Written {
  id: number;
  key: string;
  size: number;
}

/** A database failure during an upload: the client is told to retry, nothing half-written stays. */
const databaseDown = (err: unknown) =>
  isAppError(err) ? err : unavailable(Messages.databaseUnavailable, { cause: err });
const storageDown = (err: unknown) =>
  isAppError(err) ? err : unavailable(Messages.storageUnavailable, { cause: err });

export class AttachmentsService {
  private readonly keyPrefix: string;
  private readonly batchSize: number;
  private readonly listLimit: number;
  private readonly liveness: ParentLivenessMemory;

  constructor(private readonly d: AttachmentsServiceDeps) {
    this.keyPrefix = d.keyPrefix ?? '';
    this.batchSize = d.batchSize ?? 500;
    this.listLimit = d.listLimit ?? 1000;
    this.liveness = d.parentLiveness ?? askEveryTime;
  }

  get limits(): UploadLimits {
    return this.d.limits;
  }

  /**
   * Reserves room for one upload of `userId` before its body is read (429 or 503 with Retry-After
   * when there is none); the returned function gives it back once the request is done. An upload
   * spools one file at a time, so it needs at most the smaller of its declared length and the file
   * size limit.
   */
  admitUpload(userId: number, declaredLength: number | undefined): () => void {
    if (!this.d.admission) return () => undefined;
    const spool = Math.min(this.d.limits.maxFileBytes, declaredLength ?? Number.POSITIVE_INFINITY);
    return this.d.admission.admit(userId, spool);
  }

  /** Only the author of a live post or comment may attach to it; asked of its service. */
  async assertAuthor(parent: Parent, userId: number, ctx: RequestContext = {}): Promise<void> {
    const author = await this.d.owners.authorOf(parent, { requestId: ctx.requestId });
    if (author === undefined) throw notFound(notFoundMessage(parent.kind));
    if (author !== userId) throw forbidden(Messages.uploadForbidden[parent.kind]);
  }

  /**
   * Stores every file of one request, or none: each gets a `pending` row and a server-generated key,
   * is streamed to S3 while it is typed, counted and checked, and all become `ready` in one statement
   * at the end. Any failure removes what this request wrote (what cannot be removed now stays
   * pending, hidden, for reconciliation).
   */
  async upload(parent: Parent, userId: number, files: AsyncIterable<IncomingFile>): Promise<Attachment[]> {
    const written: Written[] = [];
    const budget = { requestBytes: 0 };
    try {
      for await (const file of files) {
        await this.storeOne(parent, userId, file, written, budget);
      }
      if (written.length === 0) throw badRequest(Messages.noFiles);
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

  /**
   * A live parent's attachments, oldest first: without `page` the whole list (at most `listLimit`),
   * as the old API answered; with it one page and the total. A deleted parent's are hidden at once
   * (404 `post not found` / `comment not found`), before its deletion event arrives to remove them:
   * the owner service is asked when the parent has attachments and its deletion is not known here
   * yet. A parent without attachments is an empty list, without asking.
   */
  async list(
    parent: Parent,
    page: PageRequest | undefined,
    ctx: RequestContext = {},
  ): Promise<{ items: Attachment[]; total?: number }> {
    const key = livenessKey(parent);
    if (this.liveness.known(key) === false) throw notFound(notFoundMessage(parent.kind));
    const { attachments, total, parentDeleted } = await this.d.store.listReady(
      parent,
      page
        ? { limit: page.limit, offset: page.offset, countTotal: true }
        : { limit: this.listLimit, offset: 0, countTotal: false },
    );
    if (parentDeleted) {
      this.liveness.markGone(key);
      throw notFound(notFoundMessage(parent.kind));
    }
    // A page past the end is empty while the parent may still have files: the total decides.
    const hasFiles = (total ?? attachments.length) > 0;
    if (hasFiles && !(await this.parentIsLive(parent, ctx))) throw notFound(notFoundMessage(parent.kind));
    return total === undefined ? { items: attachments } : { items: attachments, total };
  }

  /** A ready attachment of a live parent; anything else is as unknown as no attachment. */
  async get(kind: ParentKind, id: number, ctx: RequestContext = {}): Promise<Attachment> {
    const attachment = await this.d.store.findReady(kind, id);
    if (!attachment || !(await this.parentIsLive(attachment.parent, ctx)))
      throw notFound(Messages.attachmentNotFound);
    return attachment;
  }

  /** The parent's deletion event arrived: reads stop asking its owner service about it. */
  forgetDeletedParent(parent: Parent): void {
    this.liveness.markGone(livenessKey(parent));
  }

  /**
   * Whether the parent of existing attachments is live (it existed, so "not found" means deleted and
   * is remembered). A comment is live only while its post is: comments answers NOT_FOUND for a
   * comment of a deleted post. 503 `posts service unavailable` / `comments service unavailable` when
   * the owner service cannot tell (see README).
   */
  private parentIsLive(parent: Parent, ctx: RequestContext): Promise<boolean> {
    return this.liveness.isLive(livenessKey(parent), async () => {
      const author = await this.d.owners.authorOf(parent, { requestId: ctx.requestId });
      return author !== undefined;
    });
  }

  /** The attachment and its bytes; a row whose object is missing is as unknown as no row. */
  async open(
    kind: ParentKind,
    id: number,
    ctx: RequestContext = {},
  ): Promise<{ attachment: Attachment; object: StoredObject }> {
    const attachment = await this.get(kind, id, ctx);
    const object = await this.d.objects.get(attachment.objectKey).catch((err: unknown) => {
      throw storageDown(err);
    });
    if (!object) throw notFound(Messages.attachmentNotFound);
    return { attachment, object };
  }

  /** Author only. The row leaves the lists first (`deleting`), then the object goes, then the row. */
  async delete(kind: ParentKind, id: number, userId: number): Promise<void> {
    const claim = await this.d.store.claimForDelete(kind, id, userId);
    if (claim.outcome === 'not_found') throw notFound(Messages.attachmentNotFound);
    if (claim.outcome === 'forbidden') throw forbidden(Messages.deleteForbidden);
    // If S3 fails here the row stays `deleting`, hidden; reconciliation finishes the job.
    await this.d.objects.delete(claim.attachment.objectKey).catch((err: unknown) => {
      throw storageDown(err);
    });
    await this.d.store.removeRows([claim.attachment.id]);
  }

  /**
   * Applies `post.deleted` or `comment.deleted`: the parent is remembered as deleted (later uploads
   * are refused), and its attachments, objects first, are removed batch by batch. A failure is
   * retried by the consumer; a redelivery after completion changes nothing. Returns how many went.
   */
  async removeAttachmentsOf(parent: Parent, event: { consumer: string; eventId: string }): Promise<number> {
    let removed = 0;
    for (;;) {
      const step = await this.d.store.cascadeStep({ parent, ...event, limit: this.batchSize });
      if (step.alreadyProcessed || step.claimed.length === 0) return removed;
      await this.removeClaimed(step.claimed);
      removed += step.claimed.length;
    }
  }

  /**
   * Repairs what crashes and outages leave: rows pending or deleting for longer than the grace period
   * (with their objects), and objects under this service's prefixes that no row references.
   */
  async reconcile(graceSeconds: number): Promise<ReconcileReport> {
    const report: ReconcileReport = { staleRows: 0, orphanObjects: 0 };
    for (;;) {
      const stale = await this.d.store.claimStale({
        keyPrefix: this.keyPrefix,
        graceSeconds,
        limit: this.batchSize,
      });
      if (stale.length === 0) break;
      await this.removeClaimed(stale);
      report.staleRows += stale.length;
    }
    const cutoff = Date.now() - graceSeconds * 1000;
    for (const kind of ['post', 'comment'] as const) {
      for await (const page of this.d.objects.list(`${this.keyPrefix}${kind}s/`)) {
        const old = page.filter((o) => o.lastModified.getTime() < cutoff).map((o) => o.key);
        if (old.length === 0) continue;
        const referenced = await this.d.store.referencedKeys(old);
        for (const key of old.filter((k) => !referenced.has(k))) {
          await this.d.objects.delete(key);
          report.orphanObjects += 1;
        }
      }
    }
    if (report.staleRows + report.orphanObjects > 0)
      this.d.logger.info({ ...report }, 'reconciled attachments');
    return report;
  }

  private keyOf(parent: Parent): string {
    return `${this.keyPrefix}${parent.kind}s/${parent.id}/${randomUUID()}`;
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
    const iterator = file.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    // The transport fails a stream with an AppError (a limit); anything else is a broken body.
    const chunks = {
      next: () =>
        iterator.next().catch((err: unknown) => {
          throw isAppError(err) ? err : badRequest(Messages.malformedMultipart, { cause: err });
        }),
    };

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

    const body = new PassThrough({ highWaterMark: 64 * 1024 });
    const uploading = this.d.objects.upload(objectKey, body, fileType).catch((err: unknown) => {
      const failure = storageDown(err);
      body.destroy(failure);
      throw failure;
    });
    // Awaited below; marked handled now so a failure while the body is still being fed is not "unhandled".
    uploading.catch(() => undefined);
    const text = fileType === 'text/plain' ? new PlainTextCheck() : undefined;
    const send = async (chunk: Buffer) => {
      entry.size += chunk.length;
      budget.requestBytes += chunk.length;
      if (entry.size > limits.maxFileBytes) throw payloadTooLarge(limitMessages.file(fileName, limits));
      if (budget.requestBytes > limits.maxRequestBytes) throw payloadTooLarge(limitMessages.request(limits));
      if (text && !text.push(chunk))
        throw unsupportedMediaType(
          `file "${fileName}" is not valid plain text (UTF-8 without control characters)`,
        );
      if (!body.write(chunk)) await once(body, 'drain');
    };
    try {
      for (const chunk of headChunks) await send(chunk);
      while (!ended) {
        const next = await chunks.next();
        if (next.done) break;
        await send(next.value);
      }
      if (file.stream.truncated) throw payloadTooLarge(limitMessages.file(fileName, limits));
      if (text && !text.end())
        throw unsupportedMediaType(
          `file "${fileName}" is not valid plain text (UTF-8 without control characters)`,
        );
      body.end();
    } catch (err) {
      // Ends the upload (its temporary file removed, nothing sent to S3) before the cleanup deletes the key.
      if (!body.destroyed) body.destroy(err instanceof Error ? err : new Error(String(err)));
      await uploading.catch(() => undefined);
      throw err;
    }
    await uploading;
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

  /** Objects first, then rows: a row never points at an object that is already gone for long. */
  private async removeClaimed(claimed: Attachment[]): Promise<void> {
    const queue = [...claimed];
    const worker = async () => {
      for (let a = queue.shift(); a; a = queue.shift()) await this.d.objects.delete(a.objectKey);
    };
    await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
    await this.d.store.removeRows(claimed.map((a) => a.id));
  }
}
