export interface BackoffOptions {
  /** First delay, in milliseconds. */
  initialMs?: number;
  /** Upper bound of any delay, in milliseconds. */
  maxMs?: number;
  factor?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 100, maxMs: 5000, factor: 2 };

/** Delay before retry number `attempt` (1-based): exponential, capped, with up to 20% jitter below the cap. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { initialMs, maxMs, factor } = { ...DEFAULT_BACKOFF, ...options };
  const exponential = initialMs * factor ** Math.max(0, attempt - 1);
  const capped = Math.min(maxMs, exponential);
  return Math.round(capped * (0.8 + 0.2 * random()));
}

/**
 * A sleep that a stop can cut short, so that shutdown never waits for a long backoff.
 * `wake()` resolves every pending sleep at once.
 */
export class Sleeper {
  private readonly wakers = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  wake(): void {
    for (const done of [...this.wakers]) done();
  }
}
