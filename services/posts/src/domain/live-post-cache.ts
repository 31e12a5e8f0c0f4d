import type { Post } from './post';

export interface LivePostCacheOptions {
  /** How long a post read from the store answers reads; 0 turns the cache off. */
  ttlMs: number;
  /** Most posts remembered (least recently read go first). */
  maxEntries?: number;
  /** Posts with a longer description are never remembered, which bounds the memory held. */
  maxDescriptionLength?: number;
  clock?: () => number;
}

/**
 * Live posts for the read path (every read of a post is also a view, the hottest request there
 * is), for a short TTL and bounded by count and size. This process's own updates and deletes
 * forget the post at once, and a read that raced one of them is not stored, so here a changed or
 * deleted post is never served stale; another replica's change shows within the TTL.
 */
export class LivePostCache {
  private readonly entries = new Map<number, { post: Post; until: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly maxDescriptionLength: number;
  private readonly now: () => number;
  /** Bumped by every forget; a read that started before one does not store what it read. */
  private generation = 0;

  constructor(o: LivePostCacheOptions) {
    this.ttlMs = o.ttlMs;
    this.maxEntries = o.maxEntries ?? 2000;
    this.maxDescriptionLength = o.maxDescriptionLength ?? 16_384;
    this.now = o.clock ?? Date.now;
  }

  /** The live post, from the cache or `load`; undefined when there is none. */
  async get(id: number, load: (id: number) => Promise<Post | undefined>): Promise<Post | undefined> {
    const hit = this.entries.get(id);
    if (hit !== undefined) {
      if (hit.until > this.now()) return hit.post;
      this.entries.delete(id);
    }
    const generation = this.generation;
    const post = await load(id);
    if (
      post &&
      this.ttlMs > 0 &&
      generation === this.generation &&
      post.description.length <= this.maxDescriptionLength
    ) {
      this.entries.set(id, { post, until: this.now() + this.ttlMs });
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    return post;
  }

  forget(id: number): void {
    this.generation += 1;
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
