import { forbidden, notFound } from '@mpb/errors';
import type { Logger } from '@mpb/logger';
import type { PageRequest } from '@mpb/service-kit';
import type { Attachment, Parent, ParentKind } from './attachment';
import { Messages, notFoundMessage } from './messages';
import type {
  AttachmentStore,
  ObjectStore,
  OwnerDirectory,
  ParentLivenessMemory,
  StoredObject,
} from './ports';
import type { UploadAdmission } from './upload-admission';
import type { UploadLimits } from './upload-limits';
import { storageDown, Uploader, type IncomingFile } from './upload';

export const SERVICE_NAME = 'attachments';

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

export class AttachmentsService {
  private readonly keyPrefix: string;
  private readonly batchSize: number;
  private readonly listLimit: number;
  private readonly liveness: ParentLivenessMemory;
  private readonly uploader: Uploader;

  constructor(private readonly d: AttachmentsServiceDeps) {
    this.keyPrefix = d.keyPrefix ?? '';
    this.uploader = new Uploader({ ...d, keyPrefix: this.keyPrefix });
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

  /** Stores every file of one request, or none (see Uploader). */
  upload(parent: Parent, userId: number, files: AsyncIterable<IncomingFile>): Promise<Attachment[]> {
    return this.uploader.upload(parent, userId, files);
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

  /** A ready attachment of a live parent; anything else answers as no attachment would. */
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

  /** The attachment and its bytes; a row whose object is missing answers as no row would. */
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
