import {
  loadAuthProto,
  type ListRevokedSessionsRequest,
  type ListRevokedSessionsResponse__Output,
  type SessionRevocationServiceClient,
} from '@mpb/contracts';
import { unavailable } from '@mpb/errors';
import { errorFields, type Logger } from '@mpb/logger';
import { callUnary, createGrpcClient } from './grpc/client';

/** One answer of auth's revocation feed (`blog.auth.v1.SessionRevocationService`). */
export interface RevocationFeedPage {
  sessions: { sessionId: string; expiresAtMs: number }[];
  nextCursor: string;
  hasMore: boolean;
  /** The page starts from the first revocation in force: replace the set, do not add to it. */
  reset: boolean;
}

export interface RevocationFeed {
  read(cursor: string): Promise<RevocationFeedPage>;
  close?(): void;
}

/** auth's feed over gRPC; `address` is auth's gRPC host:port (AUTH_GRPC_ADDR). */
export function revocationFeedFromAuth(address: string, deadlineMs = 1000): RevocationFeed {
  const client = createGrpcClient(
    loadAuthProto().blog.auth.v1.SessionRevocationService,
    address,
  ) as SessionRevocationServiceClient;
  return {
    async read(cursor) {
      const res = await callUnary<ListRevokedSessionsRequest, ListRevokedSessionsResponse__Output>(
        client,
        client.ListRevokedSessions,
        { cursor },
        { deadlineMs },
      );
      return {
        sessions: res.sessions.map((s) => ({
          sessionId: s.session_id,
          expiresAtMs: Number(s.expires_at_unix_ms),
        })),
        nextCursor: res.next_cursor,
        hasMore: res.has_more,
        reset: res.reset,
      };
    },
    close: () => client.close(),
  };
}

export interface SessionRevocationsOptions {
  feed: RevocationFeed;
  logger: Logger;
  /** How long after one sync the next one starts. Default 200 ms: a revocation applies within a second. */
  pollIntervalMs?: number;
  /**
   * Most sessions kept in memory (about 150 bytes each). Past it the oldest revocation is dropped
   * first (its tokens are the first to expire) and an error is logged. Default 100,000.
   */
  maxEntries?: number;
  clock?: () => number;
}

export interface SessionRevocationsStatus {
  /** A complete copy of auth's set has been loaded at least once. */
  synced: boolean;
  size: number;
  /** When the last sync completed (0: never). */
  lastSyncAt: number;
  /** Sessions dropped because the set was full. */
  evicted: number;
}

/** Entries are kept this long past their expiry, so a verifier whose clock lags still refuses the token. */
const EXPIRY_SKEW_MS = 60_000;
const SWEEP_INTERVAL_MS = 30_000;
const WARN_INTERVAL_MS = 10_000;
const FEED_PAGE_SIZE = 1000;

/**
 * The sessions auth has revoked, held in memory and refreshed from auth's feed every
 * `pollIntervalMs`: a check costs a map lookup and no I/O, and a revocation applies within a second.
 * While auth is unreachable the last known set stays in force. Until the first complete load (auth
 * unreachable at start-up) nothing is known, so `isRevoked` throws UNAVAILABLE and signed-in requests
 * get a 503 rather than accepting a session that may have been revoked.
 */
export class SessionRevocations {
  private revoked = new Map<string, number>();
  private cursor = '';
  private lastSyncAt = 0;
  private lastSweepAt = 0;
  private lastWarnAt = 0;
  private evicted = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly pollIntervalMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly firstSync: Promise<void>;
  private resolveFirstSync!: () => void;

  constructor(private readonly o: SessionRevocationsOptions) {
    this.pollIntervalMs = o.pollIntervalMs ?? 200;
    this.maxEntries = o.maxEntries ?? 100_000;
    this.now = o.clock ?? Date.now;
    this.firstSync = new Promise((resolve) => (this.resolveFirstSync = resolve));
  }

  /** Starts following the feed (the first read at once); never throws, failures are logged and retried. */
  start(): this {
    if (!this.timer && !this.running && !this.stopped) this.schedule(0);
    return this;
  }

  /** Resolves once the whole set has been loaded, or rejects after `timeoutMs`. */
  async ready(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.firstSync,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('session revocations not loaded from auth')), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  isRevoked(sessionId: string): boolean {
    if (this.lastSyncAt === 0) throw unavailable('authentication unavailable, try again later');
    return this.revoked.has(sessionId);
  }

  status(): SessionRevocationsStatus {
    return {
      synced: this.lastSyncAt > 0,
      size: this.revoked.size,
      lastSyncAt: this.lastSyncAt,
      evicted: this.evicted,
    };
  }

  /** Reads every page after the cursor; one at a time (concurrent callers share the run). */
  sync(): Promise<void> {
    this.running ??= this.readFeed().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    this.o.feed.close?.();
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sync()
        .catch((err: unknown) => {
          if (this.now() - this.lastWarnAt < WARN_INTERVAL_MS) return;
          this.lastWarnAt = this.now();
          this.o.logger.warn(
            { ...errorFields(err), synced: this.lastSyncAt > 0, size: this.revoked.size },
            'session revocations not refreshed from auth; keeping the last known set',
          );
        })
        .finally(() => {
          if (!this.stopped) this.schedule(this.pollIntervalMs);
        });
    }, delayMs);
    // Polling alone never keeps a process alive.
    this.timer.unref();
  }

  private async readFeed(): Promise<void> {
    let cursor = this.cursor;
    /** Filled instead of the live set after a reset, and swapped in once complete. */
    let fresh: Map<string, number> | undefined;
    const maxPages = Math.ceil(this.maxEntries / FEED_PAGE_SIZE) + 10;
    for (let pages = 0; ; pages += 1) {
      if (pages >= maxPages) throw new Error(`revocation feed still had more after ${maxPages} pages`);
      const page = await this.o.feed.read(cursor);
      if (page.reset) fresh = new Map();
      const into = fresh ?? this.revoked;
      for (const s of page.sessions) this.add(into, s.sessionId, s.expiresAtMs);
      cursor = page.nextCursor;
      if (!fresh) this.cursor = cursor;
      if (!page.hasMore) break;
    }
    if (fresh) {
      this.revoked = fresh;
      this.cursor = cursor;
    }
    this.lastSyncAt = this.now();
    this.resolveFirstSync();
    if (this.lastSyncAt - this.lastSweepAt >= SWEEP_INTERVAL_MS) this.sweep();
  }

  private add(into: Map<string, number>, sessionId: string, expiresAtMs: number): void {
    if (expiresAtMs + EXPIRY_SKEW_MS <= this.now()) return;
    into.delete(sessionId);
    into.set(sessionId, expiresAtMs);
    if (into.size <= this.maxEntries) return;
    // Insertion order is revocation order, so the first entry's tokens expire first.
    into.delete(into.keys().next().value!);
    this.evicted += 1;
    if (this.now() - this.lastWarnAt >= WARN_INTERVAL_MS) {
      this.lastWarnAt = this.now();
      this.o.logger.error(
        { max_entries: this.maxEntries, evicted: this.evicted },
        'session revocation set full: dropping the oldest revocations',
      );
    }
  }

  /** Forgets sessions whose access tokens have all expired. */
  private sweep(): void {
    this.lastSweepAt = this.now();
    const horizon = this.now() - EXPIRY_SKEW_MS;
    for (const [sessionId, expiresAtMs] of this.revoked) {
      if (expiresAtMs <= horizon) this.revoked.delete(sessionId);
    }
  }
}

/**
 * The composition roots' one call: follow auth's feed at `address` (AUTH_GRPC_ADDR), polling from now
 * on. Waits up to `startupWaitMs` (default 3 s) for the first complete load, so a service that starts
 * beside a running auth never answers a signed-in request with 503; past it (auth unreachable) the
 * service starts anyway, logs a warning and answers signed-in requests with 503 until the load.
 */
export async function followSessionRevocations(
  address: string,
  logger: Logger,
  o: Omit<SessionRevocationsOptions, 'feed' | 'logger'> & { startupWaitMs?: number } = {},
): Promise<SessionRevocations> {
  const { startupWaitMs = 3000, ...options } = o;
  const revocations = new SessionRevocations({
    feed: revocationFeedFromAuth(address),
    logger,
    ...options,
  }).start();
  if (startupWaitMs > 0) {
    await revocations.ready(startupWaitMs).catch(() => {
      logger.warn(
        { auth_grpc: address, waited_ms: startupWaitMs },
        'session revocations not loaded from auth yet: signed-in requests get 503 until they are',
      );
    });
  }
  return revocations;
}
