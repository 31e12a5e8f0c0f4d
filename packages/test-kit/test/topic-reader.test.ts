import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { readTopic, waitFor } from '../src';

const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';

describe('readTopic (real Kafka)', () => {
  it('reads what is published to the topic, as an independent group', async () => {
    const topic = `test-kit-reader-${randomUUID().slice(0, 8)}`;
    const kafka = new Kafka({
      clientId: 'test-kit-test',
      brokers: brokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    // Published before the reader starts: it reads from the beginning.
    await producer.send({ topic, messages: [{ key: 'k1', value: 'first' }] });
    const reader = await readTopic({ brokers, clientId: 'test-kit-reader', topic });
    try {
      await producer.send({ topic, messages: [{ key: 'k2', value: 'second' }] });
      const values = await waitFor(async () =>
        reader.received.length >= 2 ? reader.received.map((m) => m.value?.toString()) : undefined,
      );
      expect(values).toEqual(['first', 'second']);
    } finally {
      await reader.stop();
      await producer.disconnect();
      const cleanup = kafka.admin();
      await cleanup.connect();
      await cleanup.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await cleanup.disconnect();
    }
  }, 30_000);
});
