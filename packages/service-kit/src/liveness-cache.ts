/**
 * What a read path knows about whether something another service owns (a post, a comment) is still
 * live, so that it can hide a deleted parent's content at once instead of waiting for the cascade
 * event. A "gone" answer is final and kept (bounded, the oldest forgotten first); a "live" answer is
 * kept for `liveTtlMs` only (0: never kept, every read asks), because a deletion may follow it at any
 * moment. Reads of one key that arrive while its owner is being asked share that one call.
 */
export class LivenessCache<K> {
  private readonly gone = new Map<K, true>();
  /** key → when the live answer expires (ms since the epoch). */
  private readonly live = new Map<K, number>();
  private readonly inFlight = new Map<K, Promise<boolean>>();
  private readonly liveTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(o: { liveTtlMs: number; maxEntries?: number; now?: () => number }) {
    this.liveTtlMs = o.liveTtlMs;
    this.maxEntries = o.maxEntries ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  /** true or false when the answer is known without asking, undefined otherwise. */
  known(key: K): boolean | undefined {
    if (this.gone.has(key)) return false;
    const until = this.live.get(key);
    if (until === undefined) return undefined;
    if (until > this.now()) return true;
    this.live.delete(key);
    return undefined;
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
    if (live) this.rememberLive(key);
    else this.markGone(key);
    return live;
  }

  /** Records that `key` was deleted (a read found out, or the deletion event arrived). */
  markGone(key: K): void {
    this.live.delete(key);
    this.gone.delete(key);
    this.gone.set(key, true);
    evictOldest(this.gone, this.maxEntries);
  }

  private rememberLive(key: K): void {
    if (this.liveTtlMs <= 0) return;
    this.live.delete(key);
    this.live.set(key, this.now() + this.liveTtlMs);
    evictOldest(this.live, this.maxEntries);
  }
}

/** Maps iterate in insertion order: the first keys are the oldest. */
function evictOldest<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done) return;
    map.delete(oldest.value);
  }
}
