import { badRequest } from '@mpb/errors';
import type { RevocationRecords } from './ports';

/** Most revocations in one answer: a page stays far below gRPC's message limit (about 60 bytes each). */
export const MAX_REVOCATIONS_PER_PAGE = 1000;

export interface RevocationPage {
  sessions: { sessionId: string; expiresAt: Date }[];
  nextCursor: string;
  hasMore: boolean;
  /** The page starts from the first revocation in force: the reader replaces its set. */
  reset: boolean;
}

const CURSOR = /^[0-9]{1,15}$/;

/** The cursor is the number of the last revocation the reader has; '' (or anything else) starts over. */
export function parseRevocationCursor(cursor: string): number | undefined {
  return CURSOR.test(cursor) ? Number(cursor) : undefined;
}

export function pageLimit(limit: number): number {
  if (limit === 0) return MAX_REVOCATIONS_PER_PAGE;
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_REVOCATIONS_PER_PAGE)
    throw badRequest(`limit must be between 1 and ${MAX_REVOCATIONS_PER_PAGE}`);
  return limit;
}

/**
 * Reads the revocations after the cursor; a cursor auth cannot continue from (empty, malformed, or
 * ahead of its records, as after a database restore) gets the whole set with `reset`.
 */
export async function readRevocationPage(
  read: (afterSeq: number, limit: number) => Promise<RevocationRecords>,
  cursor: string,
  limit: number,
): Promise<RevocationPage> {
  const wanted = pageLimit(limit);
  const after = parseRevocationCursor(cursor);
  let reset = after === undefined;
  let records = await read(after ?? 0, wanted);
  if (!reset && after! > records.latestSeq) {
    reset = true;
    records = await read(0, wanted);
  }
  const hasMore = records.entries.length === wanted;
  const nextSeq = hasMore ? records.entries[records.entries.length - 1]!.seq : records.latestSeq;
  return {
    sessions: records.entries.map((e) => ({ sessionId: e.sessionId, expiresAt: e.expiresAt })),
    nextCursor: String(nextSeq),
    hasMore,
    reset,
  };
}
