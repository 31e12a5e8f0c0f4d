import type { Logger } from '@mpb/logger';
import { Sleeper } from './backoff';

export interface LedgerPrunerOptions {
  logger: Logger;
  /** Each task deletes one ledger's expired rows in bounded statements and returns how many. */
  tasks: Record<string, () => Promise<number>>;
  /** Pause between runs. Default ten minutes. */
  intervalMs?: number;
}

/**
 * Runs ledger retention (processed-event ids and the like) periodically, in the background. A failed
 * run is logged and tried again at the next interval; a run never blocks the service's work.
 */
export class LedgerPruner {
  private readonly logger: Logger;
  private readonly tasks: Record<string, () => Promise<number>>;
  private readonly intervalMs: number;
  private readonly sleeper = new Sleeper();
  private loop: Promise<void> | undefined;
  private stopping = false;

  constructor(o: LedgerPrunerOptions) {
    this.logger = o.logger.child({ component: 'ledger-pruner' });
    this.tasks = o.tasks;
    this.intervalMs = o.intervalMs ?? 10 * 60 * 1000;
  }

  /** One run of every task; returns how many rows each deleted (a failed task is logged, not thrown). */
  async runOnce(): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const [name, task] of Object.entries(this.tasks)) {
      try {
        deleted[name] = await task();
        if (deleted[name] > 0) this.logger.info({ ledger: name, deleted: deleted[name] }, 'pruned a ledger');
      } catch (err) {
        this.logger.warn(
          { ledger: name, err: (err as Error).message },
          'ledger pruning failed; retried later',
        );
      }
    }
    return deleted;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = (async () => {
      while (!this.stopping) {
        await this.sleeper.sleep(this.intervalMs);
        if (!this.stopping) await this.runOnce();
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper.wake();
    await this.loop;
    this.loop = undefined;
  }
}
