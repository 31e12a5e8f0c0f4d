import type { Logger } from '@mpb/logger';
import { errorFields } from '@mpb/logger';
import { shutdownTracing } from '@mpb/telemetry';

export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown> | unknown;
}

export interface ShutdownOptions {
  logger: Logger;
  /** Run in this order: stop intake first, then finish work, then close clients. */
  steps: ShutdownStep[];
  timeoutMs: number;
  drainMs?: number;
  exit?: (code: number) => void;
}

/** SIGTERM/SIGINT: wait the drain delay, run each step in order, exit 0 (or 1 past the deadline). */
export function registerShutdown(o: ShutdownOptions): () => Promise<void> {
  const exit = o.exit ?? ((code: number) => process.exit(code));
  let started: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    started ??= (async () => {
      const timer = setTimeout(
        () => {
          o.logger.error({ timeout_ms: o.timeoutMs }, 'shutdown timed out');
          exit(1);
        },
        o.timeoutMs + (o.drainMs ?? 0),
      );
      timer.unref();
      if (o.drainMs) await new Promise((r) => setTimeout(r, o.drainMs));
      let failed = false;
      // Spans still queued for the collector go out last: the steps above end spans too.
      const steps = [...o.steps, { name: 'tracing', run: () => shutdownTracing() }];
      for (const step of steps) {
        try {
          await step.run();
        } catch (err) {
          failed = true;
          o.logger.error({ step: step.name, ...errorFields(err) }, 'shutdown step failed');
        }
      }
      clearTimeout(timer);
      o.logger.info('shutdown complete');
      exit(failed ? 1 : 0);
    })();
    return started;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      o.logger.info({ signal }, 'shutting down');
      void shutdown();
    });
  }
  return shutdown;
}
