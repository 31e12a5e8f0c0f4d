import type { EventEnvelope } from '@mpb/contracts';
import { ensureTopics, EventConsumer, EventProducer } from '../src';
import {
  captureLogger,
  committedOffsets,
  postEvent,
  readMessages,
  testKafka,
  unique,
  waitFor,
} from './helpers';

describe('KAFKA_TOPIC_PREFIX', () => {
  const { logger } = captureLogger();
  const prefix = `${unique('ns')}.`;
  const spaced = testKafka(logger, { topicPrefix: prefix });
  const plain = testKafka(logger);
  const producer = new EventProducer({ kafka: spaced, logger });
  let consumer: EventConsumer | undefined;

  beforeAll(() => producer.connect());
  afterAll(async () => {
    await consumer?.stop();
    await producer.disconnect();
  });

  it('creates, publishes to and consumes from the prefixed topic, in a prefixed group', async () => {
    const topic = unique('prefixed');
    const created = await ensureTopics(spaced, [topic], { partitions: 1 });
    expect(created.sort()).toEqual([`${prefix}${topic}`, `${prefix}${topic}.dlt`]);

    const event = postEvent('p', 1);
    await producer.publish(event, topic);
    // On the broker the message sits under the prefixed name only.
    expect((await readMessages(plain, `${prefix}${topic}`, 1))[0]!.key).toBe('p');

    const seen: EventEnvelope[] = [];
    consumer = new EventConsumer({
      kafka: spaced,
      logger,
      topics: [topic],
      groupId: 'readers',
      onFatal: (err) => {
        throw err;
      },
      handle: async (e) => void seen.push(e),
    });
    expect(consumer.groupId).toBe(`${prefix}readers`);
    await consumer.start();
    await waitFor(() => seen.length === 1, 15000, 'the event');
    expect(seen[0]!.id).toBe(event.id);
    await waitFor(
      async () => (await committedOffsets(plain, `${prefix}readers`, `${prefix}${topic}`)).get(0) === 1,
      10000,
      'the commit under the prefixed group',
    );
  });

  it('refuses a prefix that is no valid part of a topic name', () => {
    expect(() => testKafka(logger, { topicPrefix: 'has space.' })).toThrow('invalid topic prefix');
  });
});
