import { createLogger } from '@mpb/logger';
import type { KafkaClient, KafkaClusterSettings } from './kafka';
import { ensureTopics } from './topics';

const retriable = (message: string) => Object.assign(new Error(message), { retriable: true });

/** A KafkaClient whose admin creates nothing and answers metadata from `metadata`, in order. */
function clientWith(o: {
  create?: Error;
  metadata: Array<Error | undefined>;
  cluster?: KafkaClusterSettings;
}) {
  const calls: string[] = [];
  const created: unknown[] = [];
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    listTopics: async () => [],
    createTopics: async (request: { topics: unknown[] }) => {
      calls.push('create');
      created.push(...request.topics);
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
    cluster: o.cluster,
  } as unknown as KafkaClient;
  return { kafka, calls, created };
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

describe('ensureTopics and the cluster settings', () => {
  it("creates topics with the client's replication factor and min.insync.replicas", async () => {
    const { kafka, created } = clientWith({
      metadata: [],
      cluster: { replicationFactor: 3, minInsyncReplicas: 2 },
    });
    await ensureTopics(kafka, ['t']);
    expect(created).toEqual(
      ['t', 't.dlt'].map((topic) => ({
        topic,
        numPartitions: 3,
        replicationFactor: 3,
        configEntries: [{ name: 'min.insync.replicas', value: '2' }],
      })),
    );
  });

  it("leaves both to the broker's defaults without settings, and lets a call override them", async () => {
    const plain = clientWith({ metadata: [] });
    await ensureTopics(plain.kafka, ['t'], { deadLetter: false });
    expect(plain.created).toEqual([
      { topic: 't', numPartitions: 3, replicationFactor: -1, configEntries: [] },
    ]);
    const ha = clientWith({ metadata: [], cluster: { replicationFactor: 3, minInsyncReplicas: 2 } });
    await ensureTopics(ha.kafka, ['t'], { deadLetter: false, replicationFactor: 1, minInsyncReplicas: 1 });
    expect(ha.created).toEqual([
      {
        topic: 't',
        numPartitions: 3,
        replicationFactor: 1,
        configEntries: [{ name: 'min.insync.replicas', value: '1' }],
      },
    ]);
  });
});
