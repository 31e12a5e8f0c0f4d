import { Partitioners, type EachBatchPayload, type IHeaders, type KafkaMessage, type Producer } from 'kafkajs';
import { deadLetterTopicOf, InvalidEventError } from '@mpb/contracts';
import type { Logger } from '@mpb/logger';
import type { EventMeta } from './consumer-options';
import type { TransientRetry } from './consumer-retry';
import type { KafkaClient } from './kafka';
import type { KafkaMetrics } from './metrics';
import { isUnsendableError } from './producer';

export const HEADER_DLT_REASON = 'x-dlt-reason';
export const HEADER_ORIGINAL_TOPIC = 'x-original-topic';
export const HEADER_ORIGINAL_PARTITION = 'x-original-partition';
export const HEADER_ORIGINAL_OFFSET = 'x-original-offset';
export const HEADER_DLT_GROUP = 'x-dlt-consumer-group';
/** Set on a dead-letter copy whose value and original headers were left out: Kafka refused them as too large. */
export const HEADER_DLT_VALUE_OMITTED = 'x-dlt-value-omitted';

/** A message as read from its partition, with the fields the consumer decoded from it. */
export interface RawMessage {
  message: KafkaMessage;
  meta: EventMeta;
}

export interface DeadLetterQueueOptions {
  kafka: KafkaClient;
  /** The group as the cluster names it: written in `x-dlt-consumer-group`. */
  groupId: string;
  logger: Logger;
  retry: TransientRetry;
  metrics?: KafkaMetrics;
}

/** The consumer's own producer to `<topic>.dlt`, where it parks the messages it can never process. */
export class DeadLetterQueue {
  private readonly producer: Producer;

  constructor(private readonly o: DeadLetterQueueOptions) {
    this.producer = o.kafka.raw.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      maxInFlightRequests: 1,
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /** Copies the raw message to the dead-letter topic with the reason; retried while Kafka is unavailable. */
  async park(raw: RawMessage, err: Error, payload: EachBatchPayload): Promise<boolean> {
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
      [HEADER_DLT_GROUP]: this.o.groupId,
    };
    const key = raw.message.key && raw.message.key.length <= 1024 ? raw.message.key : null;
    const parked = await this.o.retry.run(raw.meta, payload, async () => {
      try {
        await this.producer.send({
          topic: dlt,
          acks: -1,
          messages: [{ key: raw.message.key, value: raw.message.value, headers }],
        });
      } catch (err) {
        if (!isUnsendableError(err)) throw err;
        // Too large for the dead-letter topic: park where the original is instead of its copy, so
        // the partition moves on (the original stays readable at its offset until retention).
        const bytes = (raw.message.value?.length ?? 0) + JSON.stringify(raw.message.headers ?? {}).length;
        await this.producer.send({
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
                [HEADER_DLT_GROUP]: this.o.groupId,
                [HEADER_DLT_VALUE_OMITTED]:
                  `${bytes} bytes refused by Kafka: ${(err as Error).message}`.slice(0, 500),
              },
            },
          ],
        });
      }
    });
    if (parked) {
      this.o.logger.warn({ topic, partition, offset, dlt, reason }, 'event parked in the dead-letter topic');
      this.o.metrics?.consumedMessages.inc({
        topic,
        group: this.o.groupId,
        outcome: 'dead_lettered',
      });
    }
    return parked;
  }
}
