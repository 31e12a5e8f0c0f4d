import type { Readable } from 'node:stream';
import type { Attachment, Parent } from './attachment';
import type { AllowedType } from './file-type';

/** What the domain needs from storage, S3 and the owner services; src/data, src/storage and src/grpc implement it. */

export interface NewAttachment {
  parent: Parent;
  userId: number;
  objectKey: string;
  fileName: string;
  fileType: AllowedType;
}

export type InsertOutcome = { outcome: 'inserted'; id: number } | { outcome: 'parent_deleted' };

export type ClaimOutcome =
  { outcome: 'claimed'; attachment: Attachment } | { outcome: 'not_found' } | { outcome: 'forbidden' };

export interface CascadeStep {
  /** The event was applied before (a redelivery): nothing was claimed. */
  alreadyProcessed: boolean;
  /** Rows of the parent moved to `deleting` by this step; their objects and rows go next. */
  claimed: Attachment[];
}

export interface AttachmentStore {
  /** A `pending` row, unless the parent is known to be deleted (checked under the parent's lock). */
  insertPending(a: NewAttachment): Promise<InsertOutcome>;
  /** Moves the still-pending rows to `ready` with their sizes, in one statement; returns those it moved. */
  markReady(files: Array<{ id: number; size: number }>): Promise<Attachment[]>;
  /** Deletes rows by id, whatever their state. */
  removeRows(ids: number[]): Promise<void>;
  /**
   * A parent's ready attachments, oldest first, at most `limit` after skipping `offset`; with
   * `countTotal`, how many it has (counted up to the kit's MAX_COUNTED_TOTAL); and whether the parent
   * is recorded as deleted (its deletion event reached this service).
   */
  listReady(
    parent: Parent,
    window: { limit: number; offset: number; countTotal: boolean },
  ): Promise<{ attachments: Attachment[]; total?: number; parentDeleted: boolean }>;
  /** A ready attachment of this kind of parent, unless the parent is known to be deleted. */
  findReady(kind: Parent['kind'], id: number): Promise<Attachment | undefined>;
  /** Locks a ready attachment, checks its owner and moves it to `deleting`. */
  claimForDelete(kind: Parent['kind'], id: number, userId: number): Promise<ClaimOutcome>;
  /**
   * One step of a parent's cascade: records the parent as deleted and moves up to `limit` of its rows
   * (any state) to `deleting`; when none is left, records the event as processed for `consumer`.
   */
  cascadeStep(o: { parent: Parent; consumer: string; eventId: string; limit: number }): Promise<CascadeStep>;
  /**
   * Moves to `deleting` (and returns) up to `limit` rows under `keyPrefix` that are pending since
   * before the grace period, or deleting since before it (a delete that failed halfway).
   */
  claimStale(o: { keyPrefix: string; graceSeconds: number; limit: number }): Promise<Attachment[]>;
  /** Which of these object keys some row references. */
  referencedKeys(keys: string[]): Promise<Set<string>>;
}

export interface StoredObject {
  body: Readable;
  length: number | undefined;
}

export interface ObjectStore {
  /** Streams `body` to `key` without holding it in memory; rejects, storing nothing, if the body errors. */
  upload(key: string, body: AsyncIterable<Buffer>, contentType: AllowedType): Promise<void>;
  /** undefined when there is no such object. */
  get(key: string): Promise<StoredObject | undefined>;
  /** Deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** Objects under the prefix, page by page. */
  list(prefix: string): AsyncIterable<Array<{ key: string; lastModified: Date }>>;
}

export interface OwnerDirectory {
  /**
   * The author of a live post or comment; undefined when it does not exist or is deleted. Throws an
   * UNAVAILABLE AppError naming the service when that service cannot answer.
   */
  authorOf(parent: Parent, o?: { requestId?: string }): Promise<number | undefined>;
}

/**
 * What the read paths remember about parents' liveness (the service kit's LivenessCache, keyed
 * `post:<id>` / `comment:<id>`): a deleted parent for good, a live one briefly at most; concurrent
 * asks for one parent share a call.
 */
export interface ParentLivenessMemory {
  /** true or false when known without asking the owner service, undefined otherwise. */
  known(key: string): boolean | undefined;
  /** Whether the parent is live, from memory or from `ask`; rejects when `ask` does. */
  isLive(key: string, ask: () => Promise<boolean>): Promise<boolean>;
  /** The parent was deleted (a read found out, or its deletion event arrived). */
  markGone(key: string): void;
}
