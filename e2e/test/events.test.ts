import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { Topics } from '@mpb/contracts';
import { api, platformTopic, uniq } from './client';

describe('user.registered on Kafka', () => {
  let consumer: Consumer;
  const seen: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    const kafka = new Kafka({
      clientId: 'e2e-observer',
      brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
      logLevel: logLevel.NOTHING,
    });
    consumer = kafka.consumer({ groupId: uniq('e2e-observer-') });
    await consumer.connect();
    await consumer.subscribe({ topic: platformTopic(Topics.users), fromBeginning: false });
    // Wait until the group has its partitions, so the event produced below is not missed.
    const joined = new Promise<void>((resolve) => {
      const off = consumer.on(consumer.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push({ key: message.key?.toString(), ...JSON.parse(message.value?.toString() ?? '{}') });
      },
    });
    await joined;
  });

  afterAll(async () => {
    await consumer?.disconnect();
  });

  it('is read by an independent consumer with the documented envelope, keyed by user id', async () => {
    const username = uniq('evt_');
    const email = `${username}@example.test`;
    expect(
      (
        await api('POST', '/api/auth/register', {
          body: { name: 'Event User', username, email, password: 'secret-pass' },
        })
      ).status,
    ).toBe(201);

    const deadline = Date.now() + 20000;
    let event: Record<string, unknown> | undefined;
    while (!event && Date.now() < deadline) {
      event = seen.find((e) => (e.payload as Record<string, unknown>)?.username === username);
      if (!event) await new Promise((r) => setTimeout(r, 100));
    }
    expect(event).toBeDefined();
    expect(event).toMatchObject({
      type: 'user.registered',
      version: 1,
      source: 'auth',
      aggregate_type: 'user',
      payload: { username, name: 'Event User' },
    });
    expect(event!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(event!.time as string).getTime()).toBeGreaterThan(Date.now() - 60000);
    expect(event!.key).toBe(event!.aggregate_id);
    expect(event!.trace).toEqual(expect.any(Object));
    expect(JSON.stringify(event)).not.toContain(email);
    expect(JSON.stringify(event)).not.toMatch(/password|\$2[aby]\$/);
  });
});
