import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import knexFactory, { type Knex } from 'knex';
import { createEnvelope, type EventEnvelope, type EventType } from '@mpb/contracts';
import { createLogger, type Logger } from '@mpb/logger';
import { createKafka, fetchTopicOffsets, parseBrokers, type KafkaClient, type KafkaOptions } from '../src';

export const BROKERS = parseBrokers(process.env.KAFKA_BROKERS ?? '127.0.0.1:9092');
/** The run's PostgreSQL (PG_URL, as every other test reads it), database mpb_kafka_test. */
export const DATABASE_URL =
  process.env.KAFKA_TEST_DATABASE_URL ??
  `${process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432'}/mpb_kafka_test`;

export const unique = (prefix: string): string => `test.${prefix}.${randomUUID().slice(0, 8)}`;
export const uniqueIdent = (prefix: string): string =>
  `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 10)}`;

/** A logger whose lines the test can read back (silent on the console). */
export interface CapturedLogger {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
}

export function captureLogger(service = 'kafka-test'): CapturedLogger {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ service, level: 'debug', destination }), lines };
}

export function testKafka(logger: Logger, overrides: Partial<KafkaOptions> = {}): KafkaClient {
  return createKafka({ clientId: unique('client'), brokers: BROKERS, logger, ...overrides });
}

export function postEvent(aggregateId: string, seq: number, type: EventType = 'post.updated'): EventEnvelope {
  return createEnvelope({
    type,
    aggregateType: 'post',
    aggregateId,
    payload: { seq },
    source: 'kafka-test',
    trace: { traceparent: `00-${randomUUID().replace(/-/g, '')}-${'0'.repeat(15)}1-01` },
  }) as EventEnvelope;
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Reads `count` messages of a topic from the beginning with a throwaway group. */
export async function readMessages(
  kafka: KafkaClient,
  topic: string,
  count: number,
  timeoutMs = 15000,
): Promise<ReadMessage[]> {
  const consumer = kafka.raw.consumer({ groupId: unique('reader') });
  const out: ReadMessage[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${out.length}/${count} messages of ${topic}`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {}))
            if (v !== undefined) headers[k] = v.toString();
          out.push({
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? null,
            headers,
          });
          if (out.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** Messages stored in a topic, from the partitions' offsets (exact, no waiting). */
export async function countMessages(kafka: KafkaClient, topic: string): Promise<number> {
  const offsets = await fetchTopicOffsets(kafka.raw, topic);
  return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}

/**
 * The distinct events (envelope ids) a topic holds. The producer delivers at least once (kafkajs's
 * idempotent mode is off, see producer.ts): a batch the broker wrote but answered late is sent again,
 * so a topic may hold a copy more than was published, most often on a busy broker. Tests that mean
 * "every event is on the topic, each its own message" count these; `countMessages` counts copies.
 */
export async function distinctEvents(kafka: KafkaClient, topic: string): Promise<number> {
  const messages = await countMessages(kafka, topic);
  if (messages === 0) return 0;
  const read = await readMessages(kafka, topic, messages);
  return new Set(read.map((m) => (JSON.parse(m.value ?? '{}') as { id?: string }).id)).size;
}

export async function committedOffsets(
  kafka: KafkaClient,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const admin = kafka.raw.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((t?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** Connects to the test database, creating it first when it is missing. */
export async function testDatabase(): Promise<Knex> {
  const url = new URL(DATABASE_URL);
  const name = url.pathname.replace(/^\//, '');
  const adminUrl = new URL(DATABASE_URL);
  adminUrl.pathname = '/postgres';
  const admin = knexFactory({ client: 'pg', connection: adminUrl.toString(), pool: { min: 0, max: 1 } });
  try {
    const found = await admin.raw('select 1 from pg_database where datname = ?', [name]);
    if (found.rows.length === 0) {
      await admin.raw('create database ??', [name]).catch((err: { code?: string }) => {
        // Another jest worker created it in the meantime.
        if (err.code !== '42P04' && err.code !== '23505') throw err;
      });
    }
  } finally {
    await admin.destroy();
  }
  return knexFactory({ client: 'pg', connection: DATABASE_URL, pool: { min: 0, max: 10 } });
}
