import { LRUCache } from 'lru-cache';
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
  /** An `lru-cache` bounded by count, each entry for the TTL; undefined when the TTL is 0. */
  private readonly entries: LRUCache<number, Post> | undefined;
  /** Bumped by every forget; a read that started before one does not store what it read. */
  private generation = 0;

  constructor(o: LivePostCacheOptions) {
    this.entries =
      o.ttlMs > 0
        ? new LRUCache({
            max: o.maxEntries ?? 2000,
            ttl: o.ttlMs,
            ttlResolution: 0,
            perf: { now: o.clock ?? Date.now },
            // A post whose description is longer than this is not stored.
            maxEntrySize: o.maxDescriptionLength ?? 16_384,
            sizeCalculation: (post) => Math.max(1, post.description.length),
          })
        : undefined;
  }

  /** The live post, from the cache or `load`; undefined when there is none. */
  async get(id: number, load: (id: number) => Promise<Post | undefined>): Promise<Post | undefined> {
    const hit = this.entries?.get(id);
    if (hit !== undefined) return hit;
    const generation = this.generation;
    const post = await load(id);
    if (post && generation === this.generation) this.entries?.set(id, post);
    return post;
  }

  forget(id: number): void {
    this.generation += 1;
    this.entries?.delete(id);
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }
}
