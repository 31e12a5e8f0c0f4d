import request from 'supertest';
import { Topics } from '@mpb/contracts';
import { readTopic, waitFor, type TopicReader } from '@mpb/test-kit';
import { newUser } from './helpers/factories';
import { startTestAuth, type TestAuth } from './helpers/harness';

/** The event continues the request's trace as a child of the service's own span of it. */
const childOf = (traceparent: string): unknown =>
  expect.stringMatching(
    new RegExp(`^00-${traceparent.slice(3, 35)}-(?!${traceparent.slice(36, 52)})[0-9a-f]{16}-01$`),
  );

let t: TestAuth;
let reader: TopicReader;

beforeAll(async () => {
  t = await startTestAuth();
  reader = await readTopic({
    brokers: t.config.KAFKA_BROKERS,
    clientId: 'auth-events-test',
    topic: Topics.users,
  });
});

afterAll(async () => {
  await reader.stop();
  await t.close();
});

describe('user.registered', () => {
  it('reaches the users topic through the outbox, in the documented envelope, without e-mail or hash', async () => {
    const user = newUser();
    const traceparent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    expect(
      (await request(t.app).post('/api/auth/register').set('traceparent', traceparent).send(user)).status,
    ).toBe(201);

    const message = await waitFor(
      async () => reader.received.find((m) => m.value?.toString().includes(`"username":"${user.username}"`)),
      30_000,
    );
    const envelope = JSON.parse(message.value!.toString());
    expect(Object.keys(envelope).sort()).toEqual([
      'aggregate_id',
      'aggregate_type',
      'id',
      'payload',
      'source',
      'time',
      'trace',
      'type',
      'version',
    ]);
    expect(envelope).toMatchObject({
      type: 'user.registered',
      version: 1,
      source: 'auth',
      aggregate_type: 'user',
      trace: { traceparent: childOf(traceparent) },
    });
    expect(envelope.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(envelope.time).toISOString()).toBe(envelope.time);
    expect(Object.keys(envelope.payload).sort()).toEqual(['created_at', 'id', 'name', 'username']);
    expect(envelope.payload).toMatchObject({ username: user.username, name: user.name });
    expect(envelope.aggregate_id).toBe(String(envelope.payload.id));
    expect(message.key?.toString()).toBe(envelope.aggregate_id);
    const raw = message.value!.toString();
    expect(raw).not.toContain(user.email);
    expect(raw).not.toMatch(/password|\$2b\$/);

    // The relay marks the row after Kafka acknowledged it, so a fast consumer may see the message first.
    await waitFor(async () => {
      const row = await t.knex('outbox').first('published_at').where({ id: envelope.id });
      return row?.published_at ?? undefined;
    });
  });

  it('is not written when the registration fails', async () => {
    const user = newUser();
    expect((await request(t.app).post('/api/auth/register').send(user)).status).toBe(201);
    expect(
      (
        await request(t.app)
          .post('/api/auth/register')
          .send({ ...user, email: `x${user.email}` })
      ).status,
    ).toBe(409);
    const ours = await t
      .knex('outbox')
      .where({ type: 'user.registered' })
      .whereRaw("envelope->'payload'->>'username' = ?", [user.username]);
    expect(ours).toHaveLength(1);
  });
});
