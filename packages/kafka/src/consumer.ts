import type { Consumer } from 'kafkajs';
import { parseEnvelope } from '@mpb/contracts';
import type { Logger } from '@mpb/logger';
import { backoffDelay, Sleeper, type BackoffOptions } from './backoff';
import { ConsumerLag } from './consumer-lag';
import type { ConsumerStatus, EventConsumerOptions } from './consumer-options';
import { TransientRetry } from './consumer-retry';
import { Consumption } from './consumption';
import { DeadLetterQueue } from './dead-letter';
import { ensureTopics } from './topics';

/**
 * Consumes events from a consumer group. Offsets only advance past work that is done: a message is
 * resolved after its handler succeeded or after it was parked in the dead-letter topic; a transient
 * failure is retried with capped exponential backoff while the same partition waits.
 *
 * This class runs the lifecycle (start, background start, stop, status); `Consumption` hands the
 * messages to the handler, `TransientRetry` retries them, `DeadLetterQueue` parks them and
 * `ConsumerLag` measures the group's lag.
 */
export class EventConsumer {
  private readonly options: EventConsumerOptions;
  private readonly logicalTopics: string[];
  private readonly logger: Logger;
  private readonly consumer: Consumer;
  private readonly deadLetters: DeadLetterQueue;
  private readonly consumption: Consumption;
  private readonly lagReader: ConsumerLag;
  private readonly sleeper = new Sleeper();
  private started = false;
  private starting: Promise<void> | undefined;
  private stopping = false;
  private crashed = false;
  private unwatchLag: (() => void) | undefined;

  constructor(options: EventConsumerOptions) {
    if (!options.handle === !options.handleBatch) {
      throw new Error('EventConsumer: give exactly one of handle and handleBatch');
    }
    // Topics and the group as the cluster names them (with the client's prefix); ensureTopics takes
    // the services' names and prefixes them itself.
    this.logicalTopics = options.topics;
    options = {
      ...options,
      groupId: options.kafka.group(options.groupId),
      topics: options.topics.map((t) => options.kafka.topic(t)),
    };
    this.options = options;
    this.logger = options.logger.child({ component: 'event-consumer', group: options.groupId });
    const { kafka, groupId, metrics } = options;
    this.consumer = kafka.raw.consumer({
      groupId,
      sessionTimeout: options.sessionTimeout ?? 30000,
      heartbeatInterval: options.heartbeatInterval ?? 3000,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 1000,
      minBytes: options.minBytes ?? 1,
      allowAutoTopicCreation: false,
    });
    const retry = new TransientRetry({
      groupId,
      logger: this.logger,
      backoff: options.retry,
      metrics,
      sleeper: this.sleeper,
      isStopping: () => this.stopping,
    });
    this.deadLetters = new DeadLetterQueue({ kafka, groupId, logger: this.logger, retry, metrics });
    this.consumption = new Consumption({
      options,
      parse: options.parseEnvelope ?? parseEnvelope,
      retry,
      deadLetters: this.deadLetters,
    });
    this.lagReader = new ConsumerLag({
      kafka,
      groupId,
      topics: options.topics,
      fromBeginning: options.fromBeginning ?? true,
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      const { error, restart } = payload;
      if (restart || this.stopping) {
        this.logger.warn({ err: error.message, restart }, 'kafka consumer crashed; kafkajs restarts it');
        return;
      }
      this.crashed = true;
      this.logger.error({ err: error.message }, 'kafka consumer crashed and will not restart');
      this.options.onFatal(error);
    });
  }

  get groupId(): string {
    return this.options.groupId;
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('EventConsumer: already started');
    const { kafka, topics } = this.options;
    if (this.options.ensureTopics ?? true) {
      await ensureTopics(kafka, this.logicalTopics, { partitions: this.options.partitions ?? 3 });
    }
    this.started = true;
    await this.deadLetters.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics, fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.consumption.eachBatch(payload),
    });
    this.unwatchLag = this.options.metrics?.watchLag(this.options.groupId, () => this.lag());
    this.logger.info({ topics }, 'consumer started');
  }

  /**
   * Starts now if Kafka answers; otherwise keeps trying, with backoff, in the background until it does
   * or the consumer is stopped. A service can start while Kafka is down and consume once it is back;
   * `status().running` stays false until then.
   */
  startInBackground(retry: BackoffOptions = { initialMs: 500, maxMs: 10_000 }): void {
    if (this.starting || this.started) return;
    this.starting = (async () => {
      for (let attempt = 1; !this.stopping; attempt += 1) {
        try {
          await this.start();
          if (attempt > 1) this.logger.info({ attempt }, 'kafka reachable again; consumer started');
          return;
        } catch (err) {
          this.started = false;
          await this.consumer.disconnect().catch(() => undefined);
          await this.deadLetters.disconnect().catch(() => undefined);
          if (attempt === 1) {
            this.logger.warn(
              { err: (err as Error).message },
              'consumer cannot start (kafka unreachable?); it keeps trying in the background',
            );
          }
          await this.sleeper.sleep(backoffDelay(attempt, retry));
        }
      }
    })();
  }

  /** Resolves once a `startInBackground` has started the consumer (or the consumer was stopped). */
  whenStarted(): Promise<void> {
    return this.starting ?? Promise.resolve();
  }

  /** Finishes the message in flight, commits what is done, leaves the group and disconnects. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.sleeper.wake();
    await this.starting;
    this.unwatchLag?.();
    if (this.started) {
      await this.consumer.disconnect();
      await this.deadLetters.disconnect();
    }
    await this.lagReader.close();
    this.logger.info('consumer stopped');
  }

  status(): ConsumerStatus {
    const status: ConsumerStatus = {
      running: this.started && !this.stopping && !this.crashed,
      lastProcessedAt: this.consumption.lastProcessedAt,
    };
    if (this.lagReader.last !== undefined) status.lag = this.lagReader.last;
    return status;
  }

  /** Messages on the subscribed topics not yet committed by this group, summed over partitions. */
  lag(): Promise<number> {
    return this.lagReader.read();
  }
}
