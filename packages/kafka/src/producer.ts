import { Partitioners, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { TOPIC_OF_EVENT, type EventEnvelope, type EventType } from '@mpb/contracts';
import type { Logger } from '@mpb/logger';
import { backoffDelay, Sleeper, type BackoffOptions } from './backoff';
import type { KafkaClient } from './kafka';
import type { KafkaMetrics } from './metrics';

export const HEADER_EVENT_TYPE = 'event-type';
export const HEADER_EVENT_ID = 'event-id';
export const HEADER_TRACEPARENT = 'traceparent';
export const HEADER_TRACESTATE = 'tracestate';

export interface EventProducerOptions {
  kafka: KafkaClient;
  logger?: Logger;
  /** How long the first queued message waits for others to join its batch. Default 2 ms. */
  lingerMs?: number;
  /** A batch is sent at once when this many messages are queued; also the most one request carries. Default 500. */
  maxBatchMessages?: number;
  /**
   * Most bytes one request carries (messages' keys, values and headers, estimated as
   * `messageBytes` does). Default 900 KiB: under the 1 MiB a broker accepts by default
   * (`message.max.bytes`, and the producer's `max.request.size` in the Java client).
   */
  maxBatchBytes?: number;
  /** A publish with a larger message is refused with EventTooLargeError before anything is sent. Default 256 KiB. */
  maxMessageBytes?: number;
  /**
   * Off by default: topics are created on purpose with `ensureTopics`, so a misspelt topic fails loudly
   * instead of silently creating a new one.
   */
  allowAutoTopicCreation?: boolean;
  metrics?: KafkaMetrics;
}

export interface ProducerStats {
  /** `sendBatch` requests made (acknowledged or not). */
  batches: number;
  /** Messages acknowledged. */
  messages: number;
}

interface PendingCall {
  remaining: number;
  settled: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Queued {
  topic: string;
  message: Message;
  bytes: number;
  call: PendingCall;
}

export class ProducerClosedError extends Error {
  constructor(message = 'event producer is not connected') {
    super(message);
    this.name = 'ProducerClosedError';
  }
}

export class PublishError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PublishError';
  }
}

/**
 * A publish refused because its event can never be sent: over the producer's per-event limit, or
 * refused by the broker as too large. Retrying cannot help; the outbox relay parks such events.
 */
export class EventTooLargeError extends PublishError {
  readonly permanent = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventTooLargeError';
  }
}

/** Broker answers that no retry can change: the message or the batch is too large, or malformed. */
const UNSENDABLE_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

/** True when `err` (or an error it wraps) says the messages can never be accepted as they are. */
export function isUnsendableError(err: unknown): boolean {
  for (
    let e = err as { type?: unknown; cause?: unknown; name?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth += 1
  ) {
    if (e instanceof EventTooLargeError) return true;
    if (typeof e.type === 'string' && UNSENDABLE_TYPES.has(e.type)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Defaults of the producer's size limits, which the outbox relay shares. */
export const DEFAULT_MAX_BATCH_BYTES = 900 * 1024;
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * Bytes a message takes in a request: key, value and headers, plus a fixed allowance for the
 * record's framing (lengths, offsets, timestamps; under 70 bytes in Kafka's record format v2).
 */
export function messageBytes(m: { key: string; value: string; headers: Record<string, string> }): number {
  let bytes = 70 + Buffer.byteLength(m.key) + Buffer.byteLength(m.value);
  for (const [k, v] of Object.entries(m.headers)) bytes += 10 + Buffer.byteLength(k) + Buffer.byteLength(v);
  return bytes;
}

export interface EnvelopeMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** Kafka message of an envelope: keyed by the aggregate id so that one aggregate's events stay in order. */
export function envelopeMessage(envelope: EventEnvelope<unknown>): EnvelopeMessage {
  const headers: Record<string, string> = {
    [HEADER_EVENT_TYPE]: envelope.type,
    [HEADER_EVENT_ID]: envelope.id,
  };
  if (envelope.trace?.traceparent) headers[HEADER_TRACEPARENT] = envelope.trace.traceparent;
  if (envelope.trace?.tracestate) headers[HEADER_TRACESTATE] = envelope.trace.tracestate;
  return { key: envelope.aggregate_id, value: JSON.stringify(envelope), headers };
}

export function topicOfEnvelope(envelope: EventEnvelope<unknown>): string {
  const topic = TOPIC_OF_EVENT[envelope.type as EventType] as string | undefined;
  if (!topic) throw new PublishError(`no topic for event type "${envelope.type}"`);
  return topic;
}

/**
 * Publishes envelopes with acks from all in-sync replicas, batching concurrent calls: messages
 * published within `lingerMs` of each other (or until `maxBatchMessages` are queued) travel in one
 * `sendBatch`, and each caller's promise settles with the batch that carried its messages.
 *
 * Batches go out one at a time, in the order they were published, and kafkajs holds one request in
 * flight, so a retry can never reorder two events of one aggregate. The kafkajs idempotent producer
 * stays off: it is marked experimental, and the outbox relay re-publishes after a crash anyway, so
 * duplicates are handled where they must be, by idempotent consumers (event ids).
 */
export class EventProducer {
  private readonly producer: Producer;
  private readonly logger: Logger;
  private readonly lingerMs: number;
  private readonly maxBatchMessages: number;
  private readonly maxBatchBytes: number;
  private readonly maxMessageBytes: number;
  private readonly metrics?: KafkaMetrics;
  private readonly kafka: KafkaClient;
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private connected = false;
  private closing = false;
  private connecting: Promise<void> | undefined;
  private readonly sleeper = new Sleeper();
  private readonly counters: ProducerStats = { batches: 0, messages: 0 };

  constructor(options: EventProducerOptions) {
    this.logger = (options.logger ?? options.kafka.logger).child({ component: 'event-producer' });
    this.lingerMs = options.lingerMs ?? 2;
    this.maxBatchMessages = options.maxBatchMessages ?? 500;
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.maxMessageBytes = Math.min(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, this.maxBatchBytes);
    this.metrics = options.metrics;
    this.kafka = options.kafka;
    this.producer = options.kafka.raw.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: options.allowAutoTopicCreation ?? false,
      idempotent: false,
      maxInFlightRequests: 1,
    });
    this.producer.on(this.producer.events.CONNECT, () => {
      this.connected = true;
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connected = false;
    });
  }

  async connect(): Promise<void> {
    this.closing = false;
    await this.producer.connect();
    this.connected = true;
  }

  /**
   * Connects now if Kafka answers; otherwise keeps trying, with backoff, in the background until it
   * does or the producer is disconnected. `prepare` (creating topics) runs before each attempt.
   * Until then `publish` rejects with ProducerClosedError, which the outbox relay retries: a service
   * starts and takes writes while Kafka is down, and its events go out once Kafka is back.
   */
  connectInBackground(
    prepare: () => Promise<unknown> = async () => undefined,
    retry: BackoffOptions = { initialMs: 500, maxMs: 10_000 },
  ): Promise<void> {
    this.connecting ??= (async () => {
      for (let attempt = 1; !this.closing; attempt += 1) {
        try {
          await prepare();
          await this.producer.connect();
          this.connected = true;
          if (attempt > 1) this.logger.info({ attempt }, 'kafka reachable again; producer connected');
          return;
        } catch (err) {
          if (attempt === 1) {
            this.logger.warn(
              { err: (err as Error).message },
              'producer cannot connect (kafka unreachable?); it keeps trying in the background',
            );
          }
          await this.sleeper.sleep(backoffDelay(attempt, retry));
        }
      }
    })();
    return this.connecting;
  }

  /** Resolves once a `connectInBackground` has connected (or the producer was disconnected). */
  whenConnected(): Promise<void> {
    return this.connecting ?? Promise.resolve();
  }

  isConnected(): boolean {
    return this.connected && !this.closing;
  }

  /** True while `connectInBackground` is still trying (Kafka not reached yet since the start). */
  isConnecting(): boolean {
    return this.connecting !== undefined && !this.connected && !this.closing;
  }

  stats(): ProducerStats {
    return { ...this.counters };
  }

  /** The per-event limit: a larger message is refused with EventTooLargeError. */
  get messageLimitBytes(): number {
    return this.maxMessageBytes;
  }

  /** The most bytes one request carries. */
  get batchLimitBytes(): number {
    return this.maxBatchBytes;
  }

  /**
   * Queues the envelopes for the next batch; resolves once Kafka acknowledged all of them, rejects if
   * the batch that carried them failed. The topic is the event type's (`TOPIC_OF_EVENT`) unless given.
   * An envelope over the per-event limit rejects the call with EventTooLargeError, sending nothing.
   */
  publish(
    envelopes: EventEnvelope<unknown> | EventEnvelope<unknown>[],
    topicOverride?: string,
  ): Promise<void> {
    const list = Array.isArray(envelopes) ? envelopes : [envelopes];
    if (list.length === 0) return Promise.resolve();
    if (!this.connected || this.closing) return Promise.reject(new ProducerClosedError());
    let items: Array<{ topic: string; message: Message; bytes: number }>;
    try {
      items = list.map((e) => {
        const message = envelopeMessage(e);
        const bytes = messageBytes(message);
        if (bytes > this.maxMessageBytes) {
          throw new EventTooLargeError(
            `event ${e.id} (${e.type}) is ${bytes} bytes, over the limit of ${this.maxMessageBytes}`,
          );
        }
        return { topic: this.kafka.topic(topicOverride ?? topicOfEnvelope(e)), message, bytes };
      });
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      const call: PendingCall = { remaining: items.length, settled: false, resolve, reject };
      for (const item of items) this.queue.push({ ...item, call });
      this.schedule();
    });
  }

  /** Sends everything queued now and waits for it. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.draining) {
      this.kick();
      await this.draining;
    }
  }

  /** Flushes what is queued, then disconnects. */
  async disconnect(): Promise<void> {
    this.closing = true;
    this.sleeper.wake();
    await this.connecting;
    await this.flush();
    await this.producer.disconnect();
    this.connected = false;
  }

  private schedule(): void {
    if (this.draining) return; // the running drain picks the new messages up when its batch is acked
    if (this.queue.length >= this.maxBatchMessages || this.queuedBytes() >= this.maxBatchBytes) {
      this.kick();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.kick(), this.lingerMs);
    }
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.draining || this.queue.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0) this.schedule();
    });
  }

  private queuedBytes(): number {
    let bytes = 0;
    for (const q of this.queue) {
      bytes += q.bytes;
      if (bytes >= this.maxBatchBytes) break;
    }
    return bytes;
  }

  /** The next batch: as many queued messages, in order, as fit in the count and byte limits (at least one). */
  private nextBatch(): Queued[] {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < this.maxBatchMessages) {
      const next = this.queue[count]!.bytes;
      if (count > 0 && bytes + next > this.maxBatchBytes) break;
      bytes += next;
      count += 1;
    }
    return this.queue.splice(0, count);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.nextBatch().filter((q) => !q.call.settled);
      if (batch.length > 0) await this.send(batch);
    }
  }

  private async send(batch: Queued[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const { topic, message } of batch) {
      const messages = byTopic.get(topic);
      if (messages) messages.push(message);
      else byTopic.set(topic, [message]);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    this.counters.batches += 1;
    try {
      await this.producer.sendBatch({ topicMessages, acks: -1 });
    } catch (err) {
      this.metrics?.produceBatches.inc({ result: 'failed' });
      const message = `kafka publish failed: ${(err as Error).message}`;
      const error = isUnsendableError(err)
        ? new EventTooLargeError(message, { cause: err })
        : new PublishError(message, { cause: err });
      this.logger.debug({ err: error.message, messages: batch.length }, 'batch failed');
      for (const { call } of batch) {
        if (!call.settled) {
          call.settled = true;
          call.reject(error);
        }
      }
      return;
    }
    this.counters.messages += batch.length;
    this.metrics?.produceBatches.inc({ result: 'acked' });
    for (const [topic, messages] of byTopic) this.metrics?.producedMessages.inc({ topic }, messages.length);
    for (const { call } of batch) {
      call.remaining -= 1;
      if (call.remaining === 0 && !call.settled) {
        call.settled = true;
        call.resolve();
      }
    }
  }
}
