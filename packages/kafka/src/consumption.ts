import type { EachBatchPayload, IHeaders, KafkaMessage } from 'kafkajs';
import { InvalidEventError, type EventEnvelope } from '@mpb/contracts';
import { contextFrom, inSpan, SpanKind } from '@mpb/telemetry';
import type {
  BatchContext,
  BatchEventOptions,
  EventConsumerOptions,
  EventMeta,
  SingleEventOptions,
} from './consumer-options';
import type { TransientRetry } from './consumer-retry';
import type { DeadLetterQueue, RawMessage } from './dead-letter';
import { isPermanentEventError } from './permanent-event-error';

export interface ConsumptionOptions {
  /** The consumer's options, with the group as the cluster names it. */
  options: EventConsumerOptions;
  parse: (raw: Buffer | null) => EventEnvelope;
  retry: TransientRetry;
  deadLetters: DeadLetterQueue;
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

/**
 * Hands the messages of a fetched batch to the handler, one by one (`handle`) or in chunks
 * (`handleBatch`), and resolves each offset only once its message was handled or parked.
 */
export class Consumption {
  /** When a message was last resolved. */
  lastProcessedAt: Date | null = null;
  private readonly options: EventConsumerOptions;
  private readonly parse: (raw: Buffer | null) => EventEnvelope;
  private readonly retry: TransientRetry;
  private readonly deadLetters: DeadLetterQueue;

  constructor(o: ConsumptionOptions) {
    this.options = o.options;
    this.parse = o.parse;
    this.retry = o.retry;
    this.deadLetters = o.deadLetters;
  }

  async eachBatch(payload: EachBatchPayload): Promise<void> {
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
      if (!this.retry.shouldContinue(payload)) return;
      const raw = { message, meta: metaOf(topic, partition, message) };
      let envelope: EventEnvelope;
      try {
        envelope = this.parse(message.value);
      } catch (err) {
        if (!(err instanceof InvalidEventError)) throw err;
        if (!(await this.deadLetters.park(raw, err, payload))) return;
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
      const done = await this.retry.run(raw.meta, payload, handled).catch((err: unknown) => {
        if (!isPermanentEventError(err)) throw err;
        parked = true;
        return this.deadLetters.park(raw, err, payload);
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
      if (!this.retry.shouldContinue(payload)) return;
      const chunk = messages.slice(i, i + size);
      const valid: Array<RawMessage & { envelope: EventEnvelope }> = [];
      for (const message of chunk) {
        const raw = { message, meta: metaOf(topic, partition, message) };
        try {
          valid.push({ ...raw, envelope: this.parse(message.value) });
        } catch (err) {
          if (!(err instanceof InvalidEventError)) throw err;
          if (!(await this.deadLetters.park(raw, err, payload))) return;
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
    events: Array<RawMessage & { envelope: EventEnvelope }>,
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
      return await this.retry.run(events[0]!.meta, payload, () => handleBatch(consumed, ctx));
    } catch (err) {
      if (!isPermanentEventError(err)) throw err;
      if (events.length === 1) return this.deadLetters.park(events[0]!, err, payload);
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
}
