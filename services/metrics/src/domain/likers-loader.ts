import type { CounterCache, CounterStore } from './ports';

/** Likers are loaded from PostgreSQL into Redis in chunks of this many. */
const LOAD_CHUNK = 2000;

/** A load that finds the likers dropped under it starts over at most this many times. */
const LOAD_ATTEMPTS = 3;

/** Copies a post's likers from PostgreSQL into Redis, so that a like is decided on all of them. */
export class LikersLoader {
  private readonly loading = new Map<number, Promise<void>>();

  constructor(
    private readonly cache: CounterCache,
    private readonly store: CounterStore,
  ) {}

  /** One load per post at a time in this process; loaders in other processes merge the same rows. */
  load(postId: number): Promise<void> {
    let loading = this.loading.get(postId);
    if (!loading) {
      loading = this.copyLikers(postId).finally(() => this.loading.delete(postId));
      this.loading.set(postId, loading);
    }
    return loading;
  }

  /**
   * The generation is taken before PostgreSQL is read: if the likers are dropped while the load runs
   * (a failed publish, the start-up reset of another replica, an eviction), the load does not mark
   * the partial set loaded and starts over. A load that still finds them dropped leaves the post
   * unloaded: a decision then answers 503, a read answers the snapshot's count.
   */
  private async copyLikers(postId: number): Promise<void> {
    for (let attempt = 0; attempt < LOAD_ATTEMPTS; attempt += 1) {
      const generation = await this.cache.beginLoad(postId);
      if (await this.copyPages(postId, generation)) return;
    }
  }

  private async copyPages(postId: number, generation: string): Promise<boolean> {
    let after = 0;
    for (;;) {
      const page = await this.store.likers(postId, after, LOAD_CHUNK);
      const complete = page.length < LOAD_CHUNK;
      if (!(await this.cache.mergeLikers(postId, generation, page, complete))) return false;
      if (complete) return true;
      after = page[page.length - 1]!.userId;
    }
  }
}
