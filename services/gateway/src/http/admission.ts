/**
 * What one client, and all clients together, may hold of the gateway at a time. In memory and per
 * replica: these bound concurrency (sockets, buffers, upstream connections), which is a property of
 * one process, unlike the sign-in rate limit that must be shared through Redis.
 */

/** Concurrent things per key (client address), each key at most `max`. */
export class PerClientCount {
  private readonly counts = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Takes one for `key`, or returns false when the key already holds `max`. */
  tryAcquire(key: string): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.max) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = (this.counts.get(key) ?? 0) - 1;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
  }

  held(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

export class SlotUnavailable extends Error {
  constructor(readonly reason: 'queue-full' | 'timed-out') {
    super(reason);
  }
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

/**
 * A semaphore of `size` slots with a bounded, time-limited queue: one slot per request in flight
 * to an upstream, `size` = the upstream's connection pool. A request waits at most `waitMs` for a
 * slot (then the client gets a 503, never a request parked in the agent's queue until the client
 * socket times out), and at most `maxWaiting` requests wait at once.
 */
export class Slots {
  private inUse = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly size: number,
    private readonly waitMs: number,
    private readonly maxWaiting: number,
  ) {}

  /**
   * Resolves with the slot's release function. `cancelled` lets a request whose client went away
   * leave the queue; its promise then never settles.
   */
  acquire(cancelled: (leave: () => void) => void): Promise<() => void> {
    if (this.inUse < this.size) {
      this.inUse += 1;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxWaiting) return Promise.reject(new SlotUnavailable('queue-full'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => resolve(this.releaser()),
        timer: setTimeout(() => {
          this.remove(waiter);
          reject(new SlotUnavailable('timed-out'));
        }, this.waitMs),
      };
      this.waiting.push(waiter);
      cancelled(() => {
        clearTimeout(waiter.timer);
        this.remove(waiter);
      });
    });
  }

  get busy(): number {
    return this.inUse;
  }

  private remove(waiter: Waiter): void {
    const i = this.waiting.indexOf(waiter);
    if (i !== -1) this.waiting.splice(i, 1);
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) {
        clearTimeout(next.timer);
        next.grant(); // the slot passes straight to the next in line
      } else {
        this.inUse -= 1;
      }
    };
  }
}
