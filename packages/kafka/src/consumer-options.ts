import type { EventEnvelope } from '@mpb/contracts';
import type { Logger } from '@mpb/logger';
import type { BackoffOptions } from './backoff';
import type { KafkaClient } from './kafka';
import type { KafkaMetrics } from './metrics';

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
  /**
   * Called when kafkajs gives up and will not restart the consumer, which then reports itself not
   * running. The caller decides what that means for the process (a service built on the service kit
   * exits 1); nothing in this package ends the process.
   */
  onFatal: (err: Error) => void;
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
