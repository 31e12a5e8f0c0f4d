import { errorFields, type Logger } from '@mpb/logger';
import type { AttachmentsService } from './domain/attachments-service';

/**
 * Runs reconciliation at start-up and then every `intervalSeconds` (0: start-up only). Runs never
 * overlap; a failed run is logged and the next one tries again. Replicas may run it side by side:
 * every step is idempotent.
 */
export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly o: {
      attachments: AttachmentsService;
      logger: Logger;
      intervalSeconds: number;
      graceSeconds: number;
    },
  ) {}

  start(): void {
    this.runOnce();
    if (this.o.intervalSeconds > 0) {
      this.timer = setInterval(() => this.runOnce(), this.o.intervalSeconds * 1000);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private runOnce(): void {
    if (this.running || this.stopped) return;
    this.running = this.o.attachments
      .reconcile(this.o.graceSeconds)
      .then(
        () => undefined,
        (err: unknown) => this.o.logger.warn(errorFields(err), 'reconciliation failed; retried next run'),
      )
      .finally(() => {
        this.running = undefined;
      });
  }
}
