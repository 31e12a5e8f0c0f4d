import type { EventPublisher } from './ports';

/** How long a request waits for Kafka's acknowledgement by default (METRICS_PUBLISH_TIMEOUT_MS). */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 2500;

/** The publish was not acknowledged in time; the event may still be written later. */
export class PublishTimeoutError extends Error {
  constructor(ms: number) {
    super(`the event was not acknowledged within ${ms} ms`);
    this.name = 'PublishTimeoutError';
  }
}

/**
 * Publishes, waiting at most `ms` for the acknowledgement. The producer keeps the event after a
 * timeout (it may still be written), so the outcome is as uncertain as a failure.
 */
export async function publishWithin(
  events: EventPublisher,
  envelope: Parameters<EventPublisher['publish']>[0],
  ms: number,
): Promise<void> {
  const sent = events.publish(envelope);
  // A late rejection after the timeout is expected and must not be reported as unhandled.
  sent.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PublishTimeoutError(ms)), ms);
  });
  try {
    await Promise.race([sent, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface BackgroundPublishOptions {
  attempts: number;
  /** The first wait between attempts (doubled each time). */
  backoffMs: number;
  /** Runs once the last attempt failed, with its error. */
  onGiveUp: (err: unknown) => Promise<void>;
}

/** Publishes events in the background, retrying each a few times, and tells when all are done. */
export class BackgroundPublisher {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly events: EventPublisher) {}

  publish(envelope: Parameters<EventPublisher['publish']>[0], o: BackgroundPublishOptions): void {
    const publishing = (async () => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await this.events.publish(envelope);
          return;
        } catch (err) {
          if (attempt >= o.attempts) {
            await o.onGiveUp(err);
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, o.backoffMs * 2 ** (attempt - 1)));
        }
      }
    })();
    this.running.add(publishing);
    void publishing.finally(() => this.running.delete(publishing));
  }

  /** Resolves once every publish started so far succeeded or was given up. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
