import { Writable } from 'node:stream';
import { createLogger } from '@mpb/logger';
import { createKafka, fetchTopicOffsets, parseBrokers } from './kafka';

describe('createKafka', () => {
  it('routes kafkajs log lines to pino from warn up, with their fields', () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    });
    const logger = createLogger({ service: 'test', level: 'debug', destination });
    const kafka = createKafka({ clientId: 'test', brokers: ['127.0.0.1:9092'], logger });
    const kafkaLogger = kafka.raw.logger().namespace('Runner');
    kafkaLogger.info('joined the group', { groupId: 'g' });
    kafkaLogger.warn('The group is rebalancing, re-joining', { groupId: 'g' });
    kafkaLogger.error('Crash: KafkaJSError', { retryCount: 5, stack: 'Error: x\n    at f (file.js:1:1)' });
    expect(lines.filter((l) => 'stack' in l)).toEqual([]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        component: 'kafkajs',
        namespace: 'Runner',
        groupId: 'g',
        msg: 'The group is rebalancing, re-joining',
      }),
      expect.objectContaining({
        level: 'error',
        component: 'kafkajs',
        namespace: 'Runner',
        retryCount: 5,
        msg: 'Crash: KafkaJSError',
      }),
    ]);
  });

  it('needs at least one broker', () => {
    const logger = createLogger({ service: 'test', level: 'silent' });
    expect(() => createKafka({ clientId: 'x', brokers: [], logger })).toThrow('at least one broker');
  });
});

describe('parseBrokers', () => {
  it('splits a comma-separated list and drops blanks', () => {
    expect(parseBrokers(' a:9092, b:9092 ,,')).toEqual(['a:9092', 'b:9092']);
  });
});

describe('fetchTopicOffsets', () => {
  /** A stand-in for kafkajs whose admins answer from `answers`, one per admin, in order. */
  const kafkaAnswering = (
    answers: Array<Error | Array<{ partition: number; low: string; high: string }>>,
  ) => {
    const admins: Array<{ connected: boolean; disconnected: boolean }> = [];
    const kafka = {
      admin: () => {
        const state = { connected: false, disconnected: false };
        admins.push(state);
        const answer = answers[admins.length - 1];
        return {
          connect: async () => {
            state.connected = true;
          },
          disconnect: async () => {
            state.disconnected = true;
          },
          fetchTopicOffsets: async () => {
            if (answer instanceof Error) throw answer;
            return (answer ?? []).map((p) => ({ ...p, offset: p.high }));
          },
        };
      },
    };
    return { kafka: kafka as unknown as Parameters<typeof fetchTopicOffsets>[0], admins };
  };
  const notLeader = () =>
    Object.assign(new Error('This server is not the leader for that topic-partition'), {
      retriable: true,
      type: 'NOT_LEADER_FOR_PARTITION',
    });

  it('asks again with a fresh admin when the broker answers "not the leader"', async () => {
    const { kafka, admins } = kafkaAnswering([
      notLeader(),
      notLeader(),
      [{ partition: 0, low: '2', high: '7' }],
    ]);
    await expect(fetchTopicOffsets(kafka, 't', { delayMs: 1 })).resolves.toEqual([
      { partition: 0, low: '2', high: '7' },
    ]);
    expect(admins).toHaveLength(3);
    expect(admins.every((a) => a.connected && a.disconnected)).toBe(true);
  });

  it('gives up after the attempts, with the broker answer', async () => {
    const { kafka, admins } = kafkaAnswering([notLeader(), notLeader(), notLeader()]);
    await expect(fetchTopicOffsets(kafka, 't', { attempts: 3, delayMs: 1 })).rejects.toThrow(
      'not the leader',
    );
    expect(admins).toHaveLength(3);
  });

  it('fails at once on an answer no retry can change', async () => {
    const { kafka, admins } = kafkaAnswering([
      new Error('Invalid topic'),
      [{ partition: 0, low: '0', high: '1' }],
    ]);
    await expect(fetchTopicOffsets(kafka, 't', { delayMs: 1 })).rejects.toThrow('Invalid topic');
    expect(admins).toHaveLength(1);
  });
});
