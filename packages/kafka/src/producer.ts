import { Partitioners, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { TOPIC_OF_EVENT, type EventEnvelope, type EventType } from '@mpb/contracts';
import type { Logger } from '@mpb/logger';
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
  private readonly metrics?: KafkaMetrics;
  private readonly kafka: KafkaClient;
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private connected = false;
  private closing = false;
  private readonly counters: ProducerStats = { batches: 0, messages: 0 };

  constructor(options: EventProducerOptions) {
    this.logger = (options.logger ?? options.kafka.logger).child({ component: 'event-producer' });
    this.lingerMs = options.lingerMs ?? 2;
    this.maxBatchMessages = options.maxBatchMessages ?? 500;
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

  isConnected(): boolean {
    return this.connected && !this.closing;
  }

  stats(): ProducerStats {
    return { ...this.counters };
  }

  /**
   * Queues the envelopes for the next batch; resolves once Kafka acknowledged all of them, rejects if
   * the batch that carried them failed. The topic is the event type's (`TOPIC_OF_EVENT`) unless given.
   */
  publish(
    envelopes: EventEnvelope<unknown> | EventEnvelope<unknown>[],
    topicOverride?: string,
  ): Promise<void> {
    const list = Array.isArray(envelopes) ? envelopes : [envelopes];
    if (list.length === 0) return Promise.resolve();
    if (!this.connected || this.closing) return Promise.reject(new ProducerClosedError());
    let items: Array<{ topic: string; message: Message }>;
    try {
      items = list.map((e) => ({
        topic: this.kafka.topic(topicOverride ?? topicOfEnvelope(e)),
        message: envelopeMessage(e),
      }));
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
    await this.flush();
    await this.producer.disconnect();
    this.connected = false;
  }

  private schedule(): void {
    if (this.draining) return; // the running drain picks the new messages up when its batch is acked
    if (this.queue.length >= this.maxBatchMessages) {
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

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatchMessages).filter((q) => !q.call.settled);
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
      const error = new PublishError(`kafka publish failed: ${(err as Error).message}`, { cause: err });
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
