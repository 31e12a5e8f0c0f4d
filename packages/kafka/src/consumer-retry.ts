import type { EachBatchPayload } from 'kafkajs';
import type { Logger } from '@mpb/logger';
import { backoffDelay, type BackoffOptions, type Sleeper } from './backoff';
import type { EventMeta } from './consumer-options';
import type { KafkaMetrics } from './metrics';
import { isPermanentEventError } from './permanent-event-error';

export interface TransientRetryOptions {
  groupId: string;
  logger: Logger;
  backoff?: BackoffOptions;
  metrics?: KafkaMetrics;
  /** Shared with the consumer, whose stop wakes it so that shutdown never waits for a backoff. */
  sleeper: Sleeper;
  /** True once the consumer's stop began. */
  isStopping: () => boolean;
}

/** Retries a message's work on the same partition, with capped exponential backoff, while it may. */
export class TransientRetry {
  constructor(private readonly o: TransientRetryOptions) {}

  /** False once the consumer stops or kafkajs stops the batch or takes the partition away. */
  shouldContinue(payload: EachBatchPayload): boolean {
    return !this.o.isStopping() && payload.isRunning() && !payload.isStale();
  }

  /**
   * Runs `fn` until it succeeds (true) or the consumer stops or loses the partition (false). Permanent
   * errors are rethrown for the caller to park; heartbeat errors (a rebalance) propagate to kafkajs,
   * which rejoins and redelivers from the last committed offset.
   */
  async run(meta: EventMeta, payload: EachBatchPayload, fn: () => Promise<void>): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await fn();
        return true;
      } catch (err) {
        if (isPermanentEventError(err)) throw err;
        const delay = backoffDelay(attempt, this.o.backoff);
        this.o.metrics?.consumerRetries.inc({ topic: meta.topic, group: this.o.groupId });
        if (attempt === 1 || attempt % 10 === 0) {
          this.o.logger.warn(
            {
              err: (err as Error)?.message ?? String(err),
              topic: meta.topic,
              partition: meta.partition,
              offset: meta.offset,
              attempt,
              delay,
            },
            'transient failure; retrying the same message',
          );
        }
        if (!this.shouldContinue(payload)) return false;
        await this.o.sleeper.sleep(delay);
        if (!this.shouldContinue(payload)) return false;
        await payload.heartbeat();
      }
    }
  }
}
