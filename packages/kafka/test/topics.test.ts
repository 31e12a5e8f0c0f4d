import { deadLetterTopicOf } from '@mpb/contracts';
import { ensureTopics } from '../src';
import { captureLogger, testKafka, unique } from './helpers';

describe('ensureTopics', () => {
  const { logger } = captureLogger();
  const kafka = testKafka(logger);

  it('creates missing topics with their dead-letter twins and is idempotent, even when raced', async () => {
    const topic = unique('topics');
    const created = await ensureTopics(kafka, [topic], { partitions: 3 });
    expect(created.sort()).toEqual([topic, deadLetterTopicOf(topic)].sort());

    expect(await ensureTopics(kafka, [topic], { partitions: 3 })).toEqual([]);

    const admin = kafka.raw.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic, deadLetterTopicOf(topic)] });
      expect(topics.map((t) => t.partitions.length)).toEqual([3, 3]);
    } finally {
      await admin.disconnect();
    }

    const raced = unique('topics-race');
    const results = await Promise.all([1, 2, 3].map(() => ensureTopics(kafka, [raced], { partitions: 2 })));
    expect(new Set(results.flat())).toEqual(new Set([raced, deadLetterTopicOf(raced)]));
    expect(await ensureTopics(kafka, [raced])).toEqual([]);
  });

  it('answers a ping when the broker is up and fails fast when it is not', async () => {
    await expect(kafka.ping()).resolves.toBeUndefined();
    const dead = testKafka(logger, { brokers: ['127.0.0.1:9'], retry: { retries: 0 } });
    const started = Date.now();
    await expect(dead.ping(2000)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
