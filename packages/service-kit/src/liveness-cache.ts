import { LRUCache } from 'lru-cache';

/**
 * What a read path knows about whether something another service owns (a post, a comment) is still
 * live, so that it can hide a deleted parent's content at once instead of waiting for the cascade
 * event. A "gone" answer is final and kept (bounded, the least recently used forgotten first); a
 * "live" answer is kept for `liveTtlMs` only (0: never kept, every read asks), because a deletion may
 * follow it at any moment. Both are `lru-cache`s. Reads of one key that arrive while its owner is
 * being asked share that one call.
 */
export class LivenessCache<K extends NonNullable<unknown>> {
  private readonly gone: LRUCache<K, true>;
  private readonly live: LRUCache<K, true> | undefined;
  private readonly inFlight = new Map<K, Promise<boolean>>();

  constructor(o: { liveTtlMs: number; maxEntries?: number; now?: () => number }) {
    const max = o.maxEntries ?? 10_000;
    this.gone = new LRUCache({ max });
    this.live =
      o.liveTtlMs > 0
        ? new LRUCache({ max, ttl: o.liveTtlMs, ttlResolution: 0, perf: { now: o.now ?? Date.now } })
        : undefined;
  }

  /** true or false when the answer is known without asking, undefined otherwise. */
  known(key: K): boolean | undefined {
    if (this.gone.get(key)) return false;
    return this.live?.get(key);
  }

  /**
   * Whether `key` is live: from memory when known, else from `ask` (shared with the reads of the
   * same key already waiting for it). Rejects, remembering nothing, when `ask` rejects.
   */
  async isLive(key: K, ask: () => Promise<boolean>): Promise<boolean> {
    const known = this.known(key);
    if (known !== undefined) return known;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = ask().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const live = await pending;
    // A deletion learnt while the owner was being asked wins over its older answer.
    if (this.gone.has(key)) return false;
    if (live) this.live?.set(key, true);
    else this.markGone(key);
    return live;
  }

  /** Records that `key` was deleted (a read found out, or the deletion event arrived). */
  markGone(key: K): void {
    this.live?.delete(key);
    this.gone.set(key, true);
  }
}
