import { createLogger } from '@mpb/logger';
import type { PostState, Snapshot } from './counts';
import { MetricsService } from './metrics-service';
import {
  GONE,
  type CounterCache,
  type CounterStore,
  type EventPublisher,
  type Gone,
  type LikeDecision,
  type LikerEntry,
  type PostDirectory,
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
  async recordView(): Promise<PostState | Gone> {
    this.calls.push('view');
    return { ...this.state, produced: this.state.produced + 1 };
  }
  async undoView(_postId: number, epoch: number): Promise<void> {
    this.calls.push(`undoView:${epoch}`);
  }
  async read(postIds: number[], _viewerId: number): Promise<Array<PostState | Gone>> {
    return postIds.map(() => this.state);
  }
  async saveSnapshots(
    snapshots: Array<{ postId: number; snapshot: Snapshot }>,
  ): Promise<Array<PostState | Gone>> {
    return snapshots.map((s) => ({ ...this.state, snapshot: s.snapshot }));
  }
  async decideLike(): Promise<LikeDecision> {
    this.calls.push('decide');
    if (!this.loaded) return { kind: 'unloaded' };
    return { kind: 'changed', likes: 3, seq: 77, previous: '0', current: '77' };
  }
  async undoLike(_p: number, _u: number, d: Extract<LikeDecision, { kind: 'changed' }>): Promise<void> {
    this.calls.push(`undoLike:${d.current}`);
  }
  async mergeLikers(_postId: number, entries: LikerEntry[], complete: boolean): Promise<void> {
    this.merged.push(...entries);
    if (complete) this.loaded = true;
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
}

function setUp(o: { publish?: EventPublisher['publish'] } = {}) {
  const cache = new FakeCache();
  const store = new FakeStore();
  const published: unknown[] = [];
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
  });
  return { cache, store, published, service };
}

describe('MetricsService', () => {
  it('answers a view with the folded views plus the pending ones, and publishes it with its epoch', async () => {
    const { service, published } = setUp();
    // produced 5 in epoch 5, 3 of them folded: 10 + 2
    expect(await service.recordView(1, 0)).toEqual({ postId: 1, views: 12, likes: 2, likedByViewer: false });
    expect(published).toEqual([
      expect.objectContaining({ payload: { post_id: 1, viewer_id: 0, epoch: 5, views: 12 } }),
    ]);
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
    const { service, cache, store } = setUp();
    const results = await Promise.all([service.like(9, 1), service.like(9, 1)]);
    expect(results).toEqual([{ likes: 3 }, { likes: 3 }]);
    expect(store.likerPages).toBe(3);
    expect(cache.merged).toHaveLength(2 * 2000 + 3);
  });

  it('takes a like back when its event cannot be published', async () => {
    const { service, cache } = setUp({
      publish: async () => {
        throw new Error('kafka down');
      },
    });
    cache.loaded = true;
    await expect(service.like(9, 1)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(cache.calls).toEqual(['decide', 'undoLike:77']);
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

  it('answers 404 for a post Redis marks deleted', async () => {
    const { service, cache } = setUp();
    cache.read = async () => [GONE];
    await expect(service.likeStatus(9, 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    cache.recordView = async () => GONE;
    await expect(service.recordView(1, 0)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
