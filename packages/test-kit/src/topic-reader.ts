import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';

export interface TopicReaderOptions {
  /** Comma-separated host:port list, as in KAFKA_BROKERS. */
  brokers: string;
  clientId: string;
  topic: string;
}

export interface TopicReader {
  /** Every message read so far, in the order it arrived. */
  readonly received: KafkaMessage[];
  stop(): Promise<void>;
}

/**
 * An independent consumer, as another service would read the topic: its own group, every message
 * from the topic's beginning (a new group joining is slower than the first events of a test).
 */
export async function readTopic(o: TopicReaderOptions): Promise<TopicReader> {
  const kafka = new Kafka({
    clientId: o.clientId,
    brokers: o.brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  // A short fetch wait: disconnecting waits for the fetch in flight, up to 5 s by default.
  const consumer = kafka.consumer({
    groupId: `${o.clientId}-${randomUUID().slice(0, 8)}`,
    sessionTimeout: 10_000,
    maxWaitTimeInMs: 200,
  });
  const received: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: o.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      received.push(message);
    },
  });
  return { received, stop: () => consumer.disconnect() };
}
