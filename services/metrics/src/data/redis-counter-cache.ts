import type { ChainableCommander, Redis } from 'ioredis';
import { unavailable } from '@mpb/errors';
import type { PostState, Snapshot } from '../domain/counts';
import {
  GONE,
  type CounterCache,
  type Gone,
  type LikeDecision,
  type LikerEntry,
  type ViewOutcome,
} from '../domain/ports';
import {
  BEGIN_LOAD,
  DECIDE_LIKE,
  DROP_LIKERS,
  FORGET_POST,
  MERGE_LIKERS,
  PUSH_SNAPSHOT,
  READ,
  SAVE_SNAPSHOT,
  UNVIEW,
  VIEW,
} from './redis-scripts';

type Arg = string | number;
type ScriptCall = (...args: Arg[]) => Promise<unknown>;

const SCRIPTS = {
  mpbMetricsRead: { numberOfKeys: 3, lua: READ },
  mpbMetricsView: { numberOfKeys: 4, lua: VIEW },
  mpbMetricsUnview: { numberOfKeys: 2, lua: UNVIEW },
  mpbMetricsSaveSnapshot: { numberOfKeys: 3, lua: SAVE_SNAPSHOT },
  mpbMetricsPushSnapshot: { numberOfKeys: 2, lua: PUSH_SNAPSHOT },
  mpbMetricsDecideLike: { numberOfKeys: 2, lua: DECIDE_LIKE },
  mpbMetricsDropLikers: { numberOfKeys: 2, lua: DROP_LIKERS },
  mpbMetricsBeginLoad: { numberOfKeys: 2, lua: BEGIN_LOAD },
  mpbMetricsMergeLikers: { numberOfKeys: 2, lua: MERGE_LIKERS },
  mpbMetricsForgetPost: { numberOfKeys: 3, lua: FORGET_POST },
} as const;
type ScriptName = keyof typeof SCRIPTS;

/**
 * ioredis adds defined scripts as methods (on the client and on pipelines) it has no types for: the
 * method is looked up, and checked to be one, at run time.
 */
const script = (target: Redis | ChainableCommander, name: ScriptName): ScriptCall => {
  const fn: unknown = Reflect.get(target, name);
  if (typeof fn !== 'function') throw new Error(`redis script ${name} is not defined on this client`);
  return fn.bind(target);
};

/** Merges are sent in pieces of this many users, so no script blocks Redis for long. */
const MERGE_CHUNK = 500;

/** The start-up reset scans (and resets) this many keys per round trip. */
const RESET_SCAN_COUNT = 1000;

/** What the start-up reset changed. */
export interface ResetOutcome {
  /** `counts` hashes whose view epoch was removed. */
  epochs: number;
  /** `likers` hashes dropped. */
  likers: number;
  /** `likers` hashes kept because their recent entries were published again. */
  confirmed: number;
}

/**
 * Publishes a post's recent liker entries again, each with its own sequence (a no-op for the consumer
 * when it already folded them); resolves true once Kafka acknowledged all of them.
 */
export type ConfirmLikers = (postId: number, entries: LikerEntry[], likes: number) => Promise<boolean>;

export interface RedisCounterCacheOptions {
  redis: Redis;
  /** Prefix of every key (`metrics:` by default). */
  prefix: string;
  /** How long a deleted post stays marked. */
  deletedTtlSeconds: number;
}

const num = (v: unknown): number | undefined => {
  if (v === null || v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

/** Parses the reply of the state-returning scripts (see redis-scripts.ts). */
function parseState(postId: number, reply: unknown): PostState | Gone {
  const r = reply as Array<string | number | null>;
  if (Number(r[0]) === 0) return GONE;
  const [, e, p, v, b, l, fe, f, loaded, n, viewer] = r;
  const version = num(v);
  const state: PostState = {
    postId,
    produced: num(p) ?? 0,
    likers: { loaded: loaded === '1', count: num(n) ?? 0 },
  };
  const epoch = num(e);
  if (epoch !== undefined) state.epoch = epoch;
  const viewerEntry = num(viewer);
  if (viewerEntry !== undefined) state.likers.viewer = viewerEntry;
  if (version !== undefined) {
    state.snapshot = {
      version,
      views: num(b) ?? 0,
      likes: num(l) ?? 0,
      viewEpoch: num(fe) ?? 0,
      epochViews: num(f) ?? 0,
    };
  }
  return state;
}

const entryOf = (e: LikerEntry): string => (e.liked ? String(e.seq) : `-${e.seq}`);

/** Counters in Redis; every failure to reach Redis is a 503 / UNAVAILABLE for the caller. */
export class RedisCounterCache implements CounterCache {
  private readonly redis: Redis;

  constructor(private readonly o: RedisCounterCacheOptions) {
    this.redis = o.redis;
    for (const [name, definition] of Object.entries(SCRIPTS)) this.redis.defineCommand(name, definition);
  }

  /** The keys of one post; the hash tag keeps them in one cluster slot. */
  keys(postId: number): { counts: string; likers: string; deleted: string } {
    const base = `${this.o.prefix}{${postId}}`;
    return { counts: `${base}:counts`, likers: `${base}:likers`, deleted: `${base}:deleted` };
  }

  /** The key remembering that a viewer's view of the post was counted (same hash tag as the post's keys). */
  seenKey(postId: number, viewer: string | undefined): string {
    return `${this.o.prefix}{${postId}}:seen:${viewer ?? '-'}`;
  }

  async recordView(
    postId: number,
    viewerId: number,
    viewer: string | undefined,
    windowSeconds: number,
  ): Promise<ViewOutcome> {
    const k = this.keys(postId);
    const window = viewer === undefined ? 0 : Math.max(0, Math.floor(windowSeconds));
    const reply = await this.run(() =>
      script(this.redis, 'mpbMetricsView')(
        k.counts,
        k.likers,
        k.deleted,
        this.seenKey(postId, viewer),
        viewerId,
        window,
      ),
    );
    const state = parseState(postId, reply);
    if (state === GONE) return GONE;
    return { state, counted: Number((reply as unknown[])[0]) === 1 };
  }

  async undoView(postId: number, epoch: number, viewer?: string): Promise<void> {
    await this.run(() =>
      script(this.redis, 'mpbMetricsUnview')(
        this.keys(postId).counts,
        this.seenKey(postId, viewer),
        epoch,
        viewer === undefined ? '0' : '1',
      ),
    );
  }

  async read(postIds: number[], viewerId: number): Promise<Array<PostState | Gone>> {
    const replies = await this.pipeline((p) => {
      for (const id of postIds) {
        const k = this.keys(id);
        void script(p, 'mpbMetricsRead')(k.counts, k.likers, k.deleted, viewerId);
      }
    });
    return replies.map((reply, i) => parseState(postIds[i]!, reply));
  }

  async saveSnapshots(
    snapshots: Array<{ postId: number; snapshot: Snapshot }>,
    viewerId: number,
  ): Promise<Array<PostState | Gone>> {
    const replies = await this.pipeline((p) => {
      for (const { postId, snapshot } of snapshots) this.queueSnapshot(p, postId, snapshot, viewerId);
    });
    return replies.map((reply, i) => parseState(snapshots[i]!.postId, reply));
  }

  async decideLike(postId: number, userId: number, like: boolean): Promise<LikeDecision> {
    const k = this.keys(postId);
    const reply = (await this.run(() =>
      script(this.redis, 'mpbMetricsDecideLike')(k.likers, k.deleted, userId, like ? '1' : '0'),
    )) as string[];
    switch (reply[0]) {
      case 'gone':
        return { kind: 'gone' };
      case 'unloaded':
        return { kind: 'unloaded' };
      case 'unchanged':
        return { kind: 'unchanged', likes: Number(reply[1]) };
      default:
        return {
          kind: 'changed',
          likes: Number(reply[1]),
          seq: Math.abs(Number(reply[3])),
        };
    }
  }

  async dropLikers(postId: number): Promise<void> {
    const k = this.keys(postId);
    await this.run(() => script(this.redis, 'mpbMetricsDropLikers')(k.likers, k.deleted));
  }

  async beginLoad(postId: number): Promise<string> {
    const k = this.keys(postId);
    return String(await this.run(() => script(this.redis, 'mpbMetricsBeginLoad')(k.likers, k.deleted)));
  }

  async mergeLikers(
    postId: number,
    generation: string,
    entries: LikerEntry[],
    complete: boolean,
  ): Promise<boolean> {
    const k = this.keys(postId);
    for (let i = 0; i === 0 || i < entries.length; i += MERGE_CHUNK) {
      const chunk = entries.slice(i, i + MERGE_CHUNK);
      const last = i + MERGE_CHUNK >= entries.length;
      const args = chunk.flatMap((e) => [e.userId, entryOf(e)]);
      const reply = await this.run(() =>
        script(this.redis, 'mpbMetricsMergeLikers')(
          k.likers,
          k.deleted,
          complete && last ? '1' : '0',
          generation,
          ...args,
        ),
      );
      if (Number(reply) === -1) return false;
    }
    return true;
  }

  async mergeDecision(postId: number, entry: LikerEntry): Promise<void> {
    const k = this.keys(postId);
    await this.run(() =>
      script(this.redis, 'mpbMetricsMergeLikers')(k.likers, k.deleted, '0', '', entry.userId, entryOf(entry)),
    );
  }

  async pushFolded(
    snapshots: Array<{ postId: number; snapshot: Snapshot }>,
    likers: Array<LikerEntry & { postId: number }>,
  ): Promise<void> {
    if (snapshots.length === 0 && likers.length === 0) return;
    const byPost = new Map<number, string[]>();
    for (const e of likers) {
      const args = byPost.get(e.postId) ?? [];
      args.push(String(e.userId), entryOf(e));
      byPost.set(e.postId, args);
    }
    await this.pipeline((p) => {
      for (const { postId, snapshot: s } of snapshots) {
        const k = this.keys(postId);
        void script(p, 'mpbMetricsPushSnapshot')(
          k.counts,
          k.deleted,
          s.version,
          s.views,
          s.likes,
          s.viewEpoch,
          s.epochViews,
        );
      }
      for (const [postId, args] of byPost) {
        const k = this.keys(postId);
        void script(p, 'mpbMetricsMergeLikers')(k.likers, k.deleted, '0', '', ...args);
      }
    });
  }

  async forgetPost(postId: number): Promise<void> {
    const k = this.keys(postId);
    await this.run(() =>
      script(this.redis, 'mpbMetricsForgetPost')(k.counts, k.likers, k.deleted, this.o.deletedTtlSeconds),
    );
  }

  /**
   * At the start of a process that serves the API: leaves nothing in Redis without a published event
   * behind it (a view or a like decision of a process killed before its publish). Every view epoch is
   * removed (the next view opens a new one; views of the old epoch that were published show through
   * the snapshots once folded). A likers hash with a sequence from the last `recentMs` (by the Redis
   * clock, which sequences come from) may hold decisions that were acknowledged but not folded yet, which PostgreSQL does
   * not know: its entries newer than that are published again through `confirm` (an entry no event
   * backs becomes backed, one already published changes nothing) and the hash is kept. Any other
   * likers hash, and one whose confirmation failed, is dropped (reloaded from PostgreSQL on next use).
   * SCAN in steps of RESET_SCAN_COUNT keys, one pipeline per step, so Redis is never blocked; keys of
   * other prefixes are never touched. `epochs: false` or `likers: false` leaves that kind of key alone
   * (a start-up resets view epochs at once, likers once its producer can publish their confirmation).
   */
  async resetUnpublished(
    o: { recentMs?: number; confirm?: ConfirmLikers; epochs?: boolean; likers?: boolean } = {},
  ): Promise<ResetOutcome> {
    const outcome: ResetOutcome = { epochs: 0, likers: 0, confirmed: 0 };
    const [seconds, micros] = await this.run(() => this.redis.time());
    const recentSeq = Number(seconds) * 1_000_000 + Number(micros) - (o.recentMs ?? 0) * 1000;
    const pattern = `${this.o.prefix}{*}:*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.run(() =>
        this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', RESET_SCAN_COUNT),
      );
      cursor = next;
      const counts = o.epochs === false ? [] : keys.filter((key) => key.endsWith('}:counts'));
      let likers = o.likers === false ? [] : keys.filter((key) => key.endsWith('}:likers'));
      if (o.confirm && likers.length > 0) {
        const kept = await this.confirmRecent(likers, recentSeq, o.confirm);
        outcome.confirmed += kept.size;
        likers = likers.filter((key) => !kept.has(key));
      }
      if (counts.length + likers.length === 0) continue;
      // One command per key: the keys of different posts may live on different cluster slots.
      const replies = await this.pipeline((p) => {
        for (const key of counts) p.hdel(key, 'e', 'p');
        for (const key of likers) p.unlink(key);
      });
      replies.forEach((removed, i) => {
        if (Number(removed) === 0) return;
        if (i < counts.length) outcome.epochs += 1;
        else outcome.likers += 1;
      });
    } while (cursor !== '0');
    return outcome;
  }

  /** The likers hashes (of `keys`) whose recent entries were published again: they are kept. */
  private async confirmRecent(
    keys: string[],
    recentSeq: number,
    confirm: ConfirmLikers,
  ): Promise<Set<string>> {
    // Only hashes with a recent sequence are read whole.
    const tops = await this.pipeline((p) => {
      for (const key of keys) p.hget(key, '#seq');
    });
    const recent = keys.filter((_, i) => Number(tops[i] ?? 0) > recentSeq);
    if (recent.length === 0) return new Set();
    const hashes = (await this.pipeline((p) => {
      for (const key of recent) p.hgetall(key);
    })) as Array<Record<string, string>>;
    const kept = new Set<string>();
    await Promise.all(
      hashes.map(async (hash, i) => {
        const key = recent[i]!;
        if (Number(hash['#seq'] ?? 0) <= recentSeq) return;
        const postId = Number(key.slice(this.o.prefix.length + 1, key.lastIndexOf('}')));
        const entries: LikerEntry[] = [];
        for (const [field, value] of Object.entries(hash)) {
          if (field.startsWith('#')) continue;
          const seq = Number(value);
          if (Math.abs(seq) > recentSeq)
            entries.push({ userId: Number(field), liked: seq > 0, seq: Math.abs(seq) });
        }
        if (await confirm(postId, entries, Number(hash['#n'] ?? 0)).catch(() => false)) kept.add(key);
      }),
    );
    return kept;
  }

  private queueSnapshot(p: ChainableCommander, postId: number, s: Snapshot, viewerId: number): void {
    const k = this.keys(postId);
    void script(p, 'mpbMetricsSaveSnapshot')(
      k.counts,
      k.likers,
      k.deleted,
      s.version,
      s.views,
      s.likes,
      s.viewEpoch,
      s.epochViews,
      viewerId,
    );
  }

  private async run<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw unavailable('counters unavailable', { cause: err });
    }
  }

  /** Queues commands on one pipeline and sends them in one round trip; any failed command fails all. */
  private async pipeline(queue: (p: ChainableCommander) => void): Promise<unknown[]> {
    const p = this.redis.pipeline();
    queue(p);
    const results = await this.run(() => p.exec());
    return (results ?? []).map(([err, reply]) => {
      if (err) throw unavailable('counters unavailable', { cause: err });
      return reply;
    });
  }
}
