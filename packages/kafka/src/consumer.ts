import {
  Partitioners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type KafkaMessage,
  type Producer,
} from 'kafkajs';
import { deadLetterTopicOf, InvalidEventError, parseEnvelope, type EventEnvelope } from '@mpb/contracts';
import type { Logger } from '@mpb/logger';
import { backoffDelay, Sleeper, type BackoffOptions } from './backoff';
import { fetchTopicOffsets, type KafkaClient } from './kafka';
import { contextFrom, inSpan, SpanKind } from '@mpb/telemetry';
import type { KafkaMetrics } from './metrics';
import { isUnsendableError } from './producer';
import { ensureTopics } from './topics';

export const HEADER_DLT_REASON = 'x-dlt-reason';
export const HEADER_ORIGINAL_TOPIC = 'x-original-topic';
export const HEADER_ORIGINAL_PARTITION = 'x-original-partition';
export const HEADER_ORIGINAL_OFFSET = 'x-original-offset';
export const HEADER_DLT_GROUP = 'x-dlt-consumer-group';
/** Set on a dead-letter copy whose value and original headers were left out: Kafka refused them as too large. */
export const HEADER_DLT_VALUE_OMITTED = 'x-dlt-value-omitted';

/**
 * Thrown by a handler for an event it can never process (a reference that will never exist, a
 * payload it cannot accept): the event is parked in the dead-letter topic and the consumer moves on.
 * Every other error is taken as transient and retried.
 */
export class PermanentEventError extends Error {
  readonly permanent = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentEventError';
  }
}

/** Permanent failures: our own class, or an invalid payload found by a `payloadReader` in a handler. */
export function isPermanentEventError(err: unknown): err is Error {
  if (err instanceof PermanentEventError || err instanceof InvalidEventError) return true;
  const e = err as { permanent?: unknown; name?: unknown } | null;
  return !!e && (e.permanent === true || e.name === 'InvalidEventError');
}

export interface EventMeta {
  topic: string;
  partition: number;
  /** Kafka offset as a decimal string (64-bit). */
  offset: string;
  key: string | null;
  headers: Record<string, string>;
  /** Broker or producer timestamp, milliseconds since the epoch, as a string. */
  timestamp: string;
}

export interface ConsumedEvent {
  envelope: EventEnvelope;
  meta: EventMeta;
}

export interface BatchContext {
  topic: string;
  partition: number;
  /** Offset of the first message of this batch (valid or parked). */
  firstOffset: string;
  /** Offset of the last message of this batch: the consumer resolves up to it once the handler returns. */
  lastOffset: string;
  /** Keeps the group membership alive during a long batch. */
  heartbeat(): Promise<void>;
}

export interface ConsumerStatus {
  running: boolean;
  lastProcessedAt: Date | null;
  /** The total lag found by the last call to `lag()`, if any. */
  lag?: number;
}

interface CommonOptions {
  kafka: KafkaClient;
  groupId: string;
  topics: string[];
  logger: Logger;
  /** Called when kafkajs gives up and will not restart the consumer. Default: log and exit(1). */
  onFatal?: (err: Error) => void;
  /**
   * Where a group without committed offsets starts. Default true: a new group must not silently skip
   * the events produced before it first joined, and handlers are idempotent.
   */
  fromBeginning?: boolean;
  /** Backoff of transient failures; retried until they succeed or the consumer stops. */
  retry?: BackoffOptions;
  /** Creates missing topics and dead-letter topics on start (default true, 3 partitions). */
  ensureTopics?: boolean;
  partitions?: number;
  partitionsConsumedConcurrently?: number;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  /**
   * Reads a message into an envelope, throwing InvalidEventError for one it refuses. Default:
   * `parseEnvelope` from the contracts; hot consumers can pass `parseEnvelopeFast`, which accepts and
   * refuses the same messages with less work.
   */
  parseEnvelope?: (raw: Buffer | null) => EventEnvelope;
  /**
   * Longest a fetch waits for new messages. kafkajs's stop waits for the fetch in flight, so this bounds
   * shutdown on an idle topic; default 1000 ms (kafkajs: 5000).
   */
  maxWaitTimeInMs?: number;
  /**
   * Least data a fetch waits for (up to `maxWaitTimeInMs`) before answering. Default 1 byte (answer
   * as soon as anything is there); a batch consumer on a busy topic can ask for more, so it gets
   * fewer, larger batches at the cost of up to `maxWaitTimeInMs` of delay.
   */
  minBytes?: number;
  metrics?: KafkaMetrics;
}

export interface SingleEventOptions extends CommonOptions {
  handle: (envelope: EventEnvelope, meta: EventMeta) => Promise<void>;
  handleBatch?: undefined;
}

export interface BatchEventOptions extends CommonOptions {
  /**
   * Gets the valid events of a batch in offset order (invalid ones are already parked). Should apply
   * them atomically: if it throws a transient error, nothing of the batch is resolved and it is called
   * again with the same events. A PermanentEventError makes the consumer retry the events one by one
   * and park the ones that still fail.
   */
  handleBatch: (events: ConsumedEvent[], ctx: BatchContext) => Promise<void>;
  handle?: undefined;
  /** Most messages handed to one handleBatch call. Default 500. */
  maxBatchSize?: number;
}

export type EventConsumerOptions = SingleEventOptions | BatchEventOptions;

interface Raw {
  message: KafkaMessage;
  meta: EventMeta;
}

const headerValue = (v: IHeaders[string]): string | undefined => {
  if (v === undefined) return undefined;
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
};

function metaOf(topic: string, partition: number, message: KafkaMessage): EventMeta {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    const s = headerValue(v);
    if (s !== undefined) headers[k] = s;
  }
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key ? message.key.toString() : null,
    headers,
    timestamp: message.timestamp,
  };
}

const defaultOnFatal =
  (logger: Logger) =>
  (err: Error): void => {
    logger.fatal({ err }, 'kafka consumer crashed and will not restart; exiting');
    process.exit(1);
  };

/**
 * Consumes events from a consumer group. Offsets only advance past work that is done: a message is
 * resolved after its handler succeeded or after it was parked in the dead-letter topic; a transient
 * failure is retried with capped exponential backoff while the same partition waits.
 */
export class EventConsumer {
  private readonly options: EventConsumerOptions;
  private readonly logicalTopics: string[];
  private readonly logger: Logger;
  private readonly consumer: Consumer;
  private readonly dltProducer: Producer;
  private readonly sleeper = new Sleeper();
  private readonly onFatal: (err: Error) => void;
  private readonly parse: (raw: Buffer | null) => EventEnvelope;
  private admin: Admin | undefined;
  private adminConnecting: Promise<Admin> | undefined;
  private started = false;
  private starting: Promise<void> | undefined;
  private stopping = false;
  private crashed = false;
  private lastProcessedAt: Date | null = null;
  private lastLag: number | undefined;
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
    this.onFatal = options.onFatal ?? defaultOnFatal(this.logger);
    this.parse = options.parseEnvelope ?? parseEnvelope;
    const raw = options.kafka.raw;
    this.consumer = raw.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeout ?? 30000,
      heartbeatInterval: options.heartbeatInterval ?? 3000,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 1000,
      minBytes: options.minBytes ?? 1,
      allowAutoTopicCreation: false,
    });
    this.dltProducer = raw.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      maxInFlightRequests: 1,
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      const { error, restart } = payload;
      if (restart || this.stopping) {
        this.logger.warn({ err: error.message, restart }, 'kafka consumer crashed; kafkajs restarts it');
        return;
      }
      this.crashed = true;
      this.onFatal(error);
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
    await this.dltProducer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics, fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.eachBatch(payload),
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
          await this.dltProducer.disconnect().catch(() => undefined);
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
      await this.dltProducer.disconnect();
    }
    const admin = this.admin ?? (await this.adminConnecting?.catch(() => undefined));
    await admin?.disconnect();
    this.logger.info('consumer stopped');
  }

  status(): ConsumerStatus {
    const status: ConsumerStatus = {
      running: this.started && !this.stopping && !this.crashed,
      lastProcessedAt: this.lastProcessedAt,
    };
    if (this.lastLag !== undefined) status.lag = this.lastLag;
    return status;
  }

  /** Messages on the subscribed topics not yet committed by this group, summed over partitions. */
  async lag(): Promise<number> {
    const admin = await this.connectedAdmin();
    const { groupId, topics } = this.options;
    const committed = await admin.fetchOffsets({ groupId, topics });
    const committedOf = new Map<string, number>();
    for (const t of committed) {
      for (const p of t.partitions) committedOf.set(`${t.topic}:${p.partition}`, Number(p.offset));
    }
    let total = 0;
    for (const topic of topics) {
      // The kept admin's metadata may be stale (a moved leader): then ask with fresh metadata.
      const ends = await admin
        .fetchTopicOffsets(topic)
        .catch(() => fetchTopicOffsets(this.options.kafka.raw, topic));
      for (const p of ends) {
        const high = Number(p.high);
        const c = committedOf.get(`${topic}:${p.partition}`) ?? -1;
        const from = c >= 0 ? c : (this.options.fromBeginning ?? true) ? Number(p.low) : high;
        total += Math.max(0, high - from);
      }
    }
    this.lastLag = total;
    return total;
  }

  private async connectedAdmin(): Promise<Admin> {
    if (this.admin) return this.admin;
    this.adminConnecting ??= (async () => {
      const admin = this.options.kafka.raw.admin();
      await admin.connect();
      this.admin = admin;
      return admin;
    })();
    try {
      return await this.adminConnecting;
    } catch (err) {
      this.adminConnecting = undefined;
      throw err;
    }
  }

  private shouldContinue(payload: EachBatchPayload): boolean {
    return !this.stopping && payload.isRunning() && !payload.isStale();
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    if (this.options.handleBatch) await this.consumeInBatches(payload, this.options.handleBatch);
    else await this.consumeOneByOne(payload, this.options.handle);
    await payload.commitOffsetsIfNecessary();
  }

  private async consumeOneByOne(
    payload: EachBatchPayload,
    handle: SingleEventOptions['handle'],
  ): Promise<void> {
    const { topic, partition } = payload.batch;
    for (const message of payload.batch.messages) {
      if (!this.shouldContinue(payload)) return;
      const raw = { message, meta: metaOf(topic, partition, message) };
      let envelope: EventEnvelope;
      try {
        envelope = this.parse(message.value);
      } catch (err) {
        if (!(err instanceof InvalidEventError)) throw err;
        if (!(await this.park(raw, err, payload))) return;
        this.markDone(payload, message.offset, 0);
        await payload.heartbeat();
        continue;
      }
      let parked = false;
      // The handler's span continues the trace of the request that caused the event.
      const handled = () =>
        inSpan(
          `consume ${envelope.type}`,
          {
            kind: SpanKind.CONSUMER,
            parent: contextFrom(envelope.trace),
            attributes: {
              'messaging.system': 'kafka',
              'messaging.destination.name': topic,
              'messaging.consumer.group.name': this.options.groupId,
              'messaging.message.id': envelope.id,
            },
          },
          () => handle(envelope, raw.meta),
        );
      const done = await this.retrying(raw.meta, payload, handled).catch((err: unknown) => {
        if (!isPermanentEventError(err)) throw err;
        parked = true;
        return this.park(raw, err, payload);
      });
      if (!done) return;
      this.markDone(payload, message.offset, parked ? 0 : 1);
      await payload.heartbeat();
    }
  }

  private async consumeInBatches(
    payload: EachBatchPayload,
    handleBatch: BatchEventOptions['handleBatch'],
  ): Promise<void> {
    const { topic, partition, messages } = payload.batch;
    const size = (this.options as BatchEventOptions).maxBatchSize ?? 500;
    for (let i = 0; i < messages.length; i += size) {
      if (!this.shouldContinue(payload)) return;
      const chunk = messages.slice(i, i + size);
      const valid: Array<Raw & { envelope: EventEnvelope }> = [];
      for (const message of chunk) {
        const raw = { message, meta: metaOf(topic, partition, message) };
        try {
          valid.push({ ...raw, envelope: this.parse(message.value) });
        } catch (err) {
          if (!(err instanceof InvalidEventError)) throw err;
          if (!(await this.park(raw, err, payload))) return;
        }
      }
      const first = chunk[0]!;
      const last = chunk[chunk.length - 1]!;
      if (valid.length > 0) {
        const ok = await this.runBatch(valid, first.offset, last.offset, payload, handleBatch);
        if (!ok) return;
      }
      this.markDone(payload, last.offset, valid.length);
      await payload.heartbeat();
    }
  }

  /** Runs handleBatch until it succeeds; on a permanent error, isolates the failing events one by one. */
  private async runBatch(
    events: Array<Raw & { envelope: EventEnvelope }>,
    firstOffset: string,
    lastOffset: string,
    payload: EachBatchPayload,
    handleBatch: BatchEventOptions['handleBatch'],
  ): Promise<boolean> {
    const { topic, partition } = payload.batch;
    const ctx: BatchContext = {
      topic,
      partition,
      firstOffset,
      lastOffset,
      heartbeat: () => payload.heartbeat(),
    };
    const consumed = events.map(({ envelope, meta }) => ({ envelope, meta }));
    try {
      return await this.retrying(events[0]!.meta, payload, () => handleBatch(consumed, ctx));
    } catch (err) {
      if (!isPermanentEventError(err)) throw err;
      if (events.length === 1) return this.park(events[0]!, err, payload);
      for (const event of events) {
        const ok = await this.runBatch([event], event.meta.offset, event.meta.offset, payload, handleBatch);
        if (!ok) return false;
      }
      return true;
    }
  }

  private markDone(payload: EachBatchPayload, offset: string, count = 1): void {
    payload.resolveOffset(offset);
    this.lastProcessedAt = new Date();
    if (count > 0) {
      this.options.metrics?.consumedMessages.inc(
        { topic: payload.batch.topic, group: this.options.groupId, outcome: 'processed' },
        count,
      );
    }
  }

  /**
   * Runs `fn` until it succeeds (true) or the consumer stops or loses the partition (false). Permanent
   * errors are rethrown for the caller to park; heartbeat errors (a rebalance) propagate to kafkajs,
   * which rejoins and redelivers from the last committed offset.
   */
  private async retrying(
    meta: EventMeta,
    payload: EachBatchPayload,
    fn: () => Promise<void>,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await fn();
        return true;
      } catch (err) {
        if (isPermanentEventError(err)) throw err;
        const delay = backoffDelay(attempt, this.options.retry);
        this.options.metrics?.consumerRetries.inc({ topic: meta.topic, group: this.options.groupId });
        if (attempt === 1 || attempt % 10 === 0) {
          this.logger.warn(
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
        await this.sleeper.sleep(delay);
        if (!this.shouldContinue(payload)) return false;
        await payload.heartbeat();
      }
    }
  }

  /** Copies the raw message to the dead-letter topic with the reason; retried while Kafka is unavailable. */
  private async park(raw: Raw, err: Error, payload: EachBatchPayload): Promise<boolean> {
    const reason = (err instanceof InvalidEventError ? err.message : `${err.name}: ${err.message}`).slice(
      0,
      1000,
    );
    const { topic, partition, offset } = raw.meta;
    const dlt = deadLetterTopicOf(topic);
    const headers: IHeaders = {
      ...(raw.message.headers ?? {}),
      [HEADER_DLT_REASON]: reason,
      [HEADER_ORIGINAL_TOPIC]: topic,
      [HEADER_ORIGINAL_PARTITION]: String(partition),
      [HEADER_ORIGINAL_OFFSET]: offset,
      [HEADER_DLT_GROUP]: this.options.groupId,
    };
    const key = raw.message.key && raw.message.key.length <= 1024 ? raw.message.key : null;
    const parked = await this.retrying(raw.meta, payload, async () => {
      try {
        await this.dltProducer.send({
          topic: dlt,
          acks: -1,
          messages: [{ key: raw.message.key, value: raw.message.value, headers }],
        });
      } catch (err) {
        if (!isUnsendableError(err)) throw err;
        // Too large for the dead-letter topic: park where the original is instead of its copy, so
        // the partition moves on (the original stays readable at its offset until retention).
        const bytes = (raw.message.value?.length ?? 0) + JSON.stringify(raw.message.headers ?? {}).length;
        await this.dltProducer.send({
          topic: dlt,
          acks: -1,
          messages: [
            {
              key,
              value: null,
              headers: {
                [HEADER_DLT_REASON]: reason,
                [HEADER_ORIGINAL_TOPIC]: topic,
                [HEADER_ORIGINAL_PARTITION]: String(partition),
                [HEADER_ORIGINAL_OFFSET]: offset,
                [HEADER_DLT_GROUP]: this.options.groupId,
                [HEADER_DLT_VALUE_OMITTED]:
                  `${bytes} bytes refused by Kafka: ${(err as Error).message}`.slice(0, 500),
              },
            },
          ],
        });
      }
    });
    if (parked) {
      this.logger.warn({ topic, partition, offset, dlt, reason }, 'event parked in the dead-letter topic');
      this.options.metrics?.consumedMessages.inc({
        topic,
        group: this.options.groupId,
        outcome: 'dead_lettered',
      });
    }
    return parked;
  }
}
