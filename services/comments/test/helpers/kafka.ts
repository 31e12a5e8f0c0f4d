import { Kafka, logLevel, type Consumer, type KafkaMessage, type Producer } from 'kafkajs';
import { fetchTopicOffsets } from '@mpb/kafka';
import { suffix } from './factories';

/**
 * Plain kafkajs clients for tests: they play the other services (publishing post events) and an
 * independent reader of what comments publishes.
 */
export const testKafka = (clientId = 'comments-test'): Kafka =>
  new Kafka({
    clientId,
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    logLevel: logLevel.NOTHING,
  });

/**
 * Commits the group's offsets at the current end of each topic, so a new group reads only what is
 * published from now on (a new group would otherwise start from the beginning of the shared topic),
 * without the race of `fromBeginning: false` against the group join. kafkajs's admin.setOffsets does
 * the same but idles through a 5 s fetch; a short-lived paused member of the group commits at once.
 */
export async function startGroupAtEnd(kafka: Kafka, groupId: string, topics: string[]): Promise<void> {
  const ends: Array<{ topic: string; partition: number; offset: string }> = [];
  for (const topic of topics) {
    for (const p of await fetchTopicOffsets(kafka, topic)) {
      ends.push({ topic, partition: p.partition, offset: p.high });
    }
  }
  const member = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000 });
  await member.connect();
  try {
    const joined = new Promise<void>((resolve) => member.on(member.events.GROUP_JOIN, () => resolve()));
    await member.subscribe({ topics, fromBeginning: true });
    await member.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => undefined });
    member.pause(topics.map((topic) => ({ topic })));
    await joined;
    await member.commitOffsets(ends);
  } finally {
    await member.disconnect();
  }
}

export interface ReceivedMessage {
  topic: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

const headersOf = (m: KafkaMessage): Record<string, string> =>
  Object.fromEntries(
    Object.entries(m.headers ?? {}).flatMap(([k, v]) => {
      const first = Array.isArray(v) ? v[0] : v;
      return first === undefined ? [] : [[k, first.toString()]];
    }),
  );

/** Reads every message published to the topic from now on, into `messages`. */
export class TopicRecorder {
  readonly messages: ReceivedMessage[] = [];
  private consumer: Consumer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  async start(): Promise<this> {
    const groupId = `comments-test-reader-${suffix()}`;
    await startGroupAtEnd(this.kafka, groupId, [this.topic]);
    const consumer = this.kafka.consumer({ groupId, sessionTimeout: 10_000, maxWaitTimeInMs: 200 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        this.messages.push({
          topic,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? '',
          headers: headersOf(message),
        });
      },
    });
    return this;
  }

  /** The messages whose JSON value satisfies the predicate (others, and non-JSON, are skipped). */
  envelopes<T = Record<string, unknown>>(predicate: (envelope: T) => boolean): T[] {
    return this.messages.flatMap((m) => {
      try {
        const envelope = JSON.parse(m.value) as T;
        return predicate(envelope) ? [envelope] : [];
      } catch {
        return [];
      }
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

/** A connected producer that writes raw messages, as another service or a broken client would. */
export async function rawProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}
