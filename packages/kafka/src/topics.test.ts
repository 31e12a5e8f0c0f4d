import { createLogger } from '@mpb/logger';
import type { KafkaClient } from './kafka';
import { ensureTopics } from './topics';

const retriable = (message: string) => Object.assign(new Error(message), { retriable: true });

/** A KafkaClient whose admin creates nothing and answers metadata from `metadata`, in order. */
function clientWith(o: { create?: Error; metadata: Array<Error | undefined> }) {
  const calls: string[] = [];
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    listTopics: async () => [],
    createTopics: async () => {
      calls.push('create');
      if (o.create) throw o.create;
      return true;
    },
    fetchTopicMetadata: async () => {
      calls.push('metadata');
      const answer = o.metadata.shift();
      if (answer) throw answer;
      return { topics: [] };
    },
  };
  const kafka = {
    raw: { admin: () => admin },
    topic: (name: string) => name,
    logger: createLogger({ service: 'test', level: 'silent' }),
  } as unknown as KafkaClient;
  return { kafka, calls };
}

describe('ensureTopics on a busy broker', () => {
  it('waits out "does not host this topic-partition" after creating, instead of failing', async () => {
    const { kafka, calls } = clientWith({
      create: retriable('This server does not host this topic-partition'),
      metadata: [
        retriable('This server does not host this topic-partition'),
        retriable('leader not available'),
      ],
    });
    await expect(ensureTopics(kafka, ['t'], { deadLetter: false })).resolves.toEqual(['t']);
    expect(calls).toEqual(['create', 'metadata', 'metadata', 'metadata']);
  });

  it('fails on an answer no wait can change', async () => {
    const { kafka, calls } = clientWith({ create: new Error('Topic authorization failed'), metadata: [] });
    await expect(ensureTopics(kafka, ['t'], { deadLetter: false })).rejects.toThrow('authorization');
    expect(calls).toEqual(['create']);
  });

  it('gives up when the leaders stay unknown', async () => {
    const { kafka, calls } = clientWith({
      metadata: Array.from({ length: 20 }, () => retriable('leader not available')),
    });
    await expect(ensureTopics(kafka, ['t'], { deadLetter: false })).rejects.toThrow('leader not available');
    expect(calls.filter((c) => c === 'metadata')).toHaveLength(12);
  }, 10_000);
});
