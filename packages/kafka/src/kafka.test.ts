import { Writable } from 'node:stream';
import { createLogger } from '@mpb/logger';
import { createKafka, parseBrokers } from './kafka';

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
    kafkaLogger.error('Crash: KafkaJSError', { retryCount: 5 });
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
