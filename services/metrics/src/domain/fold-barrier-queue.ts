/**
 * One fold barrier at a time per process. A caller may only rely on a barrier that looked at Kafka
 * after its own decision, so callers arriving while one runs share the next one, started as soon as
 * the running one ends: a burst of 400s costs two barriers, not one each.
 */
export class FoldBarrierQueue {
  /** The fold barrier running now, and the one queued after it. */
  private barrierRun: Promise<void> | undefined;
  private barrierNext: Promise<void> | undefined;

  constructor(private readonly barrier: () => Promise<void>) {}

  /** Settles as a barrier that started no earlier than this call does. */
  caughtUp(): Promise<void> {
    const start = (): Promise<void> => {
      const run = this.barrier().finally(() => {
        if (this.barrierRun === run) this.barrierRun = undefined;
      });
      this.barrierRun = run;
      return run;
    };
    if (!this.barrierRun) return start();
    this.barrierNext ??= this.barrierRun
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.barrierNext = undefined;
        return start();
      });
    return this.barrierNext;
  }
}
