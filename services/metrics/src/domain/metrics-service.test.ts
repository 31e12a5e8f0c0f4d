import { contractViolations, type EventEnvelope } from '@mpb/contracts';
import { createLogger } from '@mpb/logger';
import type { PostState, Snapshot } from './counts';
import { Messages, MetricsService } from './metrics-service';
import {
  GONE,
  type CounterCache,
  type CounterStore,
  type EventPublisher,
  type Gone,
  type LikeDecision,
  type LikerEntry,
  type PostDirectory,
  type ViewOutcome,
} from './ports';

const logger = createLogger({ service: 'metrics-test', level: 'silent' });
const SNAPSHOT: Snapshot = { version: 1, views: 10, likes: 2, viewEpoch: 5, epochViews: 3 };

/** Just enough of Redis for the rules under test; every call is recorded. */
class FakeCache implements CounterCache {
  calls: string[] = [];
  state: PostState = {
    postId: 1,
    epoch: 5,
    produced: 4,
    snapshot: SNAPSHOT,
    likers: { loaded: true, count: 2 },
  };
  loaded = false;
  merged: LikerEntry[] = [];
  /** Viewers counted so far, as the Redis script remembers them within the window. */
  seen = new Set<string>();
  viewArgs: Array<{ viewer: string | undefined; window: number }> = [];
  async recordView(
    _postId: number,
    _viewerId: number,
    viewer: string | undefined,
    window: number,
  ): Promise<ViewOutcome> {
    this.calls.push('view');
    this.viewArgs.push({ viewer, window });
    if (viewer !== undefined && window > 0) {
      if (this.seen.has(viewer)) return { state: this.state, counted: false };
      this.seen.add(viewer);
    }
    this.state = { ...this.state, produced: this.state.produced + 1 };
    return { state: this.state, counted: true };
  }
  async undoView(_postId: number, epoch: number, viewer?: string): Promise<void> {
    this.calls.push(`undoView:${epoch}${viewer === undefined ? '' : `:${viewer}`}`);
    if (viewer !== undefined) this.seen.delete(viewer);
  }
  async read(postIds: number[], _viewerId: number): Promise<Array<PostState | Gone>> {
    return postIds.map(() => this.state);
  }
  async saveSnapshots(
    snapshots: Array<{ postId: number; snapshot: Snapshot }>,
  ): Promise<Array<PostState | Gone>> {
    return snapshots.map((s) => ({ ...this.state, snapshot: s.snapshot }));
  }
  /** Decisions to answer first, in order (then every decision changes the state). */
  next: LikeDecision[] = [];
  async decideLike(): Promise<LikeDecision> {
    this.calls.push('decide');
    if (!this.loaded) return { kind: 'unloaded' };
    return this.next.shift() ?? { kind: 'changed', likes: 3, seq: 77 };
  }
  async mergeDecision(_postId: number, e: LikerEntry): Promise<void> {
    this.calls.push(`merge:${e.liked ? '' : '-'}${e.seq}`);
  }
  async dropLikers(): Promise<void> {
    this.calls.push('dropLikers');
    this.loaded = false;
    this.generation += 1;
  }
  generation = 1;
  /** Called while a load runs (between its pages), to drop the likers under it. */
  onPage: (() => void) | undefined;
  async beginLoad(): Promise<string> {
    this.calls.push('beginLoad');
    return String(this.generation);
  }
  async mergeLikers(
    _postId: number,
    generation: string,
    entries: LikerEntry[],
    complete: boolean,
  ): Promise<boolean> {
    this.onPage?.();
    if (generation !== String(this.generation)) return false;
    this.merged.push(...entries);
    if (complete) this.loaded = true;
    return true;
  }
  async pushFolded(): Promise<void> {}
  async forgetPost(): Promise<void> {}
}

class FakeStore implements CounterStore {
  failing = false;
  likerPages = 0;
  async snapshots(): Promise<Map<number, Snapshot>> {
    if (this.failing) throw new Error('database down');
    return new Map([[1, SNAPSHOT]]);
  }
  async likers(_postId: number, after: number, limit: number): Promise<LikerEntry[]> {
    this.likerPages += 1;
    // Two full pages and a last short one.
    const start = after + 1;
    const count = after < 2 * limit ? limit : 3;
    return Array.from({ length: count }, (_, i) => ({ userId: start + i, liked: true, seq: 10 }));
  }
  /** Folded rows by user. */
  rows = new Map<number, LikerEntry>();
  async likeOf(_postId: number, userId: number): Promise<LikerEntry | undefined> {
    return this.rows.get(userId);
  }
}

function setUp(
  o: {
    publish?: EventPublisher['publish'];
    publishTimeoutMs?: number;
    viewDedupSeconds?: number;
    foldBarrier?: () => Promise<void>;
  } = {},
) {
  const cache = new FakeCache();
  const store = new FakeStore();
  const published: EventEnvelope<unknown>[] = [];
  const posts: PostDirectory = { assertLive: async () => undefined, forget: () => undefined };
  const service = new MetricsService({
    cache,
    store,
    posts,
    events: {
      publish:
        o.publish ??
        (async (e) => {
          published.push(e);
        }),
    },
    logger,
    publishTimeoutMs: o.publishTimeoutMs,
    takeBackBackoffMs: 1,
    viewDedupSeconds: o.viewDedupSeconds,
    foldBarrier: o.foldBarrier,
  });
  return { cache, store, published, service };
}

describe('MetricsService', () => {
  it('answers a view with the folded views plus the pending ones, and publishes it with its epoch', async () => {
    const { service, published } = setUp();
    // produced 5 in epoch 5, 3 of them folded: 10 + 2
    expect(await service.recordView(1, 0)).toEqual({
      postId: 1,
      views: 12,
      likes: 2,
      likedByViewer: false,
      counted: true,
    });
    expect(published).toEqual([
      expect.objectContaining({ payload: { post_id: 1, viewer_id: 0, epoch: 5, views: 12 } }),
    ]);
    // The wire form, byte for byte: field order and types.
    expect(JSON.stringify(published[0]!.payload)).toBe('{"post_id":1,"viewer_id":0,"epoch":5,"views":12}');
    expect(contractViolations(published[0]!.type, published[0]!.payload)).toEqual([]);
  });

  it('counts a viewer once within the window: a repeated view publishes nothing and says so', async () => {
    const { service, cache, published } = setUp({ viewDedupSeconds: 1800 });
    const first = await service.recordView(1, 0, { address: '203.0.113.9' });
    const again = await service.recordView(1, 0, { address: '::ffff:203.0.113.9' });
    expect(first).toMatchObject({ views: 12, counted: true });
    expect(again).toMatchObject({ views: 12, counted: false });
    expect(published).toHaveLength(1);
    expect(cache.viewArgs).toEqual([
      { viewer: 'a203.0.113.9', window: 1800 },
      { viewer: 'a203.0.113.9', window: 1800 },
    ]);
    // A signed-in user is named by id, apart from the address it reads from.
    expect(await service.recordView(1, 7, { address: '203.0.113.9' })).toMatchObject({ counted: true });
    expect(await service.recordView(1, 7, { address: '198.51.100.1' })).toMatchObject({ counted: false });
    expect(published).toHaveLength(2);
  });

  it('counts every view with a window of 0, and anonymous calls without an address', async () => {
    const { service, published } = setUp({ viewDedupSeconds: 0 });
    for (let i = 0; i < 3; i += 1) await service.recordView(1, 0, { address: '203.0.113.9' });
    expect(published).toHaveLength(3);
    const windowed = setUp({ viewDedupSeconds: 1800 });
    for (let i = 0; i < 3; i += 1) await windowed.service.recordView(1, 0);
    expect(windowed.published).toHaveLength(3);
  });

  it('refuses an impossible viewer address with INVALID_ARGUMENT', async () => {
    const { service, cache } = setUp({ viewDedupSeconds: 1800 });
    await expect(service.recordView(1, 0, { address: 'x'.repeat(65) })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: Messages.invalidViewerAddress,
    });
    expect(cache.calls).toEqual([]);
  });

  it('forgets the viewer with a view it takes back, so the next view counts', async () => {
    let fail = true;
    const { service, cache, published } = setUp({
      viewDedupSeconds: 1800,
      publish: async (e) => {
        if (fail) throw new Error('kafka down');
        published.push(e);
      },
    });
    await expect(service.recordView(1, 7)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(cache.calls).toEqual(['view', 'undoView:5:u7']);
    fail = false;
    expect(await service.recordView(1, 7)).toMatchObject({ counted: true });
    expect(published).toHaveLength(1);
  });

  it('takes a view back when its event cannot be published', async () => {
    const { service, cache } = setUp({
      publish: async () => {
        throw new Error('kafka down');
      },
    });
    await expect(service.recordView(1, 0)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(cache.calls).toEqual(['view', 'undoView:5']);
  });

  it('takes a view back when its counts cannot be completed', async () => {
    const { service, cache, store } = setUp();
    cache.state = { ...cache.state, snapshot: undefined };
    store.failing = true;
    await expect(service.recordView(1, 0)).rejects.toThrow('database down');
    expect(cache.calls).toEqual(['view', 'undoView:5']);
  });

  it('loads every page of likers before deciding, once for concurrent requests', async () => {
    const { service, cache, store, published } = setUp();
    const results = await Promise.all([service.like(9, 1), service.like(9, 1)]);
    expect(results).toEqual([{ likes: 3 }, { likes: 3 }]);
    expect(store.likerPages).toBe(3);
    expect(cache.merged).toHaveLength(2 * 2000 + 3);
    // The wire form of a like, byte for byte: field order and types.
    expect(published.map((e) => `${e.type} ${JSON.stringify(e.payload)}`)).toEqual([
      'post.liked {"post_id":1,"user_id":9,"seq":77,"likes":3}',
      'post.liked {"post_id":1,"user_id":9,"seq":77,"likes":3}',
    ]);
    for (const e of published) expect(contractViolations(e.type, e.payload)).toEqual([]);
  });

  it('takes a like back with a newer decision, published until Kafka takes it', async () => {
    let failures = 3;
    const { service, cache, published } = setUp({
      publish: async (e) => {
        if (failures-- > 0) throw new Error('kafka down');
        published.push(e);
      },
    });
    cache.loaded = true;
    await expect(service.like(9, 1)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: Messages.notRecorded,
    });
    await service.idle();
    // The decision had sequence 77: its take-back is an unlike with 78, published on the third try.
    expect(cache.calls).toEqual(['decide', 'merge:-78']);
    expect(published).toEqual([
      expect.objectContaining({
        type: 'post.unliked',
        payload: { post_id: 1, user_id: 9, seq: 78, likes: 2 },
      }),
    ]);
    expect(JSON.stringify(published[0]!.payload)).toBe('{"post_id":1,"user_id":9,"seq":78,"likes":2}');
    expect(contractViolations(published[0]!.type, published[0]!.payload)).toEqual([]);
  });

  it('drops the likers when the take-back cannot be published either', async () => {
    const { service, cache } = setUp({
      publish: async () => {
        throw new Error('kafka down');
      },
    });
    cache.loaded = true;
    await expect(service.unlike(9, 1)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await service.idle();
    expect(cache.calls).toEqual(['decide', 'merge:78', 'dropLikers']);
  });

  it('gives up waiting for an acknowledgement after publishTimeoutMs', async () => {
    const { service, cache } = setUp({
      publish: () => new Promise<void>(() => undefined),
      publishTimeoutMs: 50,
    });
    cache.loaded = true;
    const started = Date.now();
    await expect(service.like(9, 1)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(service.recordView(1, 0)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(cache.calls).toEqual(['decide', 'merge:-78', 'view', 'undoView:5']);
  });

  it('starts a load over when the likers are dropped under it, never marking a partial set loaded', async () => {
    const { service, cache, store } = setUp();
    let drops = 1;
    cache.onPage = () => {
      if (drops-- > 0) void cache.dropLikers();
    };
    expect(await service.like(9, 1)).toEqual({ likes: 3 });
    // The first load's first page found the likers dropped; the second load merged all three pages.
    expect(cache.calls.filter((c) => c === 'beginLoad')).toHaveLength(2);
    expect(store.likerPages).toBe(4);
    expect(cache.merged).toHaveLength(2 * 2000 + 3);
  });

  it('loads the likers of a post before telling a signed-in viewer whether they like it', async () => {
    const { service, cache, store } = setUp();
    cache.read = async (ids: number[], viewerId: number): Promise<PostState[]> =>
      ids.map(() => ({
        ...cache.state,
        likers: cache.loaded
          ? { loaded: true, count: cache.merged.length, viewer: viewerId === 2 ? 10 : undefined }
          : { loaded: false, count: 0 },
      }));
    expect(await service.getCounts([1], 0)).toEqual([
      { postId: 1, views: 11, likes: 2, likedByViewer: false },
    ]);
    expect(store.likerPages).toBe(0);
    expect(await service.getCounts([1], 2)).toEqual([
      { postId: 1, views: 11, likes: 4003, likedByViewer: true },
    ]);
    expect(store.likerPages).toBe(3);
  });

  // Redis rebuilt the likers from PostgreSQL before the consumer folded the user's acknowledged unlike:
  // the reloaded row says "liked". The answer must wait for the fold and be decided on it.
  it('answers "already liked" only after the folds caught up, deciding again on the folded row', async () => {
    let caughtUp!: () => void;
    const barrier = new Promise<void>((resolve) => {
      caughtUp = resolve;
    });
    const { service, cache, store, published } = setUp({ foldBarrier: () => barrier });
    cache.loaded = true;
    cache.next = [{ kind: 'unchanged', likes: 2 }];
    store.rows.set(9, { userId: 9, liked: false, seq: 40 });
    const liked = service.like(9, 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(cache.calls).toEqual(['decide']);
    caughtUp();
    await expect(liked).resolves.toEqual({ likes: 3 });
    expect(cache.calls).toEqual(['decide', 'merge:-40', 'decide']);
    expect(published).toHaveLength(1);
  });

  it('still answers "already liked" when the folded row agrees', async () => {
    const { service, cache } = setUp({ foldBarrier: async () => undefined });
    cache.loaded = true;
    cache.next = [
      { kind: 'unchanged', likes: 2 },
      { kind: 'unchanged', likes: 2 },
    ];
    await expect(service.like(9, 1)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: Messages.alreadyLiked,
    });
    // No folded row: nothing to merge.
    expect(cache.calls).toEqual(['decide', 'decide']);
  });

  it('answers 503, nothing changed, when the folds cannot be seen to catch up', async () => {
    const { service, cache, published } = setUp({
      foldBarrier: async () => Promise.reject(new Error('consumer behind')),
    });
    cache.loaded = true;
    cache.next = [{ kind: 'unchanged', likes: 2 }];
    await expect(service.unlike(9, 1)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: Messages.unsettled,
    });
    expect(cache.calls).toEqual(['decide']);
    expect(published).toEqual([]);
  });

  it('shares one barrier among the 400s that arrive while one runs', async () => {
    let barriers = 0;
    const { service, cache } = setUp({
      foldBarrier: async () => {
        barriers += 1;
        await new Promise((r) => setTimeout(r, 20));
      },
    });
    cache.loaded = true;
    cache.next = Array.from({ length: 10 }, () => ({ kind: 'unchanged' as const, likes: 2 }));
    const answers = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => service.like(i + 1, 1)));
    expect(answers.map((a) => a.status)).toEqual(Array(5).fill('rejected'));
    // The first runs its own; the four arriving while it runs share the next one.
    expect(barriers).toBe(2);
  });

  it('answers 404 for a post Redis marks deleted', async () => {
    const { service, cache } = setUp();
    cache.read = async () => [GONE];
    await expect(service.likeStatus(9, 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    cache.recordView = async (): Promise<ViewOutcome> => GONE;
    await expect(service.recordView(1, 0)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
