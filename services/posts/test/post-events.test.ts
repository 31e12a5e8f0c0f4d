import type { KafkaMessage } from 'kafkajs';
import request from 'supertest';
import { contractViolations, Topics } from '@mpb/contracts';
import { readTopic, waitFor, type TopicReader } from '@mpb/test-kit';
import { bearer, createPost, newPost, newUserId } from './helpers/factories';
import { startTestPosts, type TestPosts } from './helpers/harness';

/** The event continues the request's trace as a child of the service's own span of it. */
const childOf = (traceparent: string): unknown =>
  expect.stringMatching(
    new RegExp(`^00-${traceparent.slice(3, 35)}-(?!${traceparent.slice(36, 52)})[0-9a-f]{16}-01$`),
  );

let t: TestPosts;
let reader: TopicReader;

beforeAll(async () => {
  t = await startTestPosts();
  reader = await readTopic({
    brokers: t.config.KAFKA_BROKERS,
    clientId: 'posts-events-test',
    topic: Topics.posts,
  });
});

afterAll(async () => {
  await reader.stop();
  await t.close();
});

interface Envelope {
  id: string;
  type: string;
  version: number;
  time: string;
  source: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: Record<string, unknown>;
  trace: Record<string, string>;
}

/** The envelope, or undefined for what other tests publish to the shared topic (poison messages). */
function parsed(m: KafkaMessage): Envelope | undefined {
  try {
    return JSON.parse(m.value?.toString() ?? '{}') as Envelope;
  } catch {
    return undefined;
  }
}

/**
 * The event of this test's post. The topic is shared with every other posts database on the
 * machine (a running platform, other test runs), whose post ids overlap ours: the owner, a random
 * user id, tells ours apart.
 */
async function eventOf(
  type: string,
  postId: number,
  ownerId: number,
): Promise<{ envelope: Envelope; message: KafkaMessage }> {
  const message = await waitFor(async () =>
    reader.received.find((m) => {
      const e = parsed(m);
      return e?.type === type && e.aggregate_id === String(postId) && e.payload?.user_id === ownerId;
    }),
  );
  return { envelope: JSON.parse(message.value!.toString()) as Envelope, message };
}

describe('post events', () => {
  it('publishes post.created, post.updated and post.deleted in the envelope, keyed by the post id', async () => {
    const owner = newUserId();
    const token = bearer(t.tokenFor(owner));
    const traceparent = `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`;
    const created = await request(t.app)
      .post('/api/posts')
      .set('Authorization', token)
      .set('traceparent', traceparent)
      .send(newPost({ tag: 'events' }));
    expect(created.status).toBe(201);
    const post = created.body;

    const updated = await request(t.app)
      .put(`/api/posts/${post.id}`)
      .set('Authorization', token)
      .send({ title: 'Updated title', description: 'Updated description' });
    expect(updated.status).toBe(200);
    expect((await request(t.app).delete(`/api/posts/${post.id}`).set('Authorization', token)).status).toBe(
      204,
    );
    const row = await t.knex('posts').first('deleted_at').where({ id: post.id });

    const createdEvent = await eventOf('post.created', post.id, owner);
    expect(Object.keys(createdEvent.envelope).sort()).toEqual([
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
    expect(createdEvent.envelope).toMatchObject({
      type: 'post.created',
      version: 1,
      source: 'posts',
      aggregate_type: 'post',
      aggregate_id: String(post.id),
      trace: { traceparent: childOf(traceparent) },
    });
    expect(createdEvent.envelope.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(createdEvent.envelope.payload).toEqual({
      id: post.id,
      user_id: owner,
      title: post.title,
      tag: 'events',
      created_at: post.created_at,
    });

    const updatedEvent = await eventOf('post.updated', post.id, owner);
    expect(updatedEvent.envelope.payload).toEqual({
      id: post.id,
      user_id: owner,
      title: 'Updated title',
      tag: 'events',
      updated_at: updated.body.updated_at,
    });

    const deletedEvent = await eventOf('post.deleted', post.id, owner);
    expect(deletedEvent.envelope.payload).toEqual({
      id: post.id,
      user_id: owner,
      deleted_at: row.deleted_at.toISOString(),
    });

    for (const { message, envelope } of [createdEvent, updatedEvent, deletedEvent]) {
      expect(contractViolations(envelope.type, envelope.payload)).toEqual([]);
      expect(message.key?.toString()).toBe(String(post.id));
      expect(message.headers?.['event-type']?.toString()).toMatch(/^post\./);
    }
    // One post's events stay in order: one key, one partition.
    const offsets = [createdEvent, updatedEvent, deletedEvent].map(({ message }) => BigInt(message.offset));
    expect([...offsets].sort((a, b) => (a < b ? -1 : 1))).toEqual(offsets);
  });

  it('keeps events small: post.updated of the longest CJK description references the post, never carries the text', async () => {
    const owner = newUserId();
    const token = t.tokenFor(owner);
    const post = await createPost(t.app, token, newPost({ tag: 'events' }));
    const description = '漢'.repeat(20_000); // 60 000 bytes of UTF-8
    const updated = await request(t.app)
      .put(`/api/posts/${post.id}`)
      .set('Authorization', bearer(token))
      .send({ title: 'Long edit', description });
    expect(updated.status).toBe(200);
    const { message, envelope } = await eventOf('post.updated', post.id, owner);
    expect(envelope.payload).not.toHaveProperty('description');
    expect(message.value!.length).toBeLessThan(2048);
  });

  it('writes no event for a change that did not happen', async () => {
    const owner = newUserId();
    const post = await createPost(t.app, t.tokenFor(owner));
    const other = bearer(t.tokenFor(newUserId()));
    expect(
      (await request(t.app).put(`/api/posts/${post.id}`).set('Authorization', other).send({ title: 'Nope' }))
        .status,
    ).toBe(403);
    expect((await request(t.app).delete(`/api/posts/${post.id}`).set('Authorization', other)).status).toBe(
      403,
    );
    expect(
      (
        await request(t.app)
          .put(`/api/posts/${post.id}`)
          .set('Authorization', bearer(t.tokenFor(owner)))
          .send({ title: null })
      ).status,
    ).toBe(200);
    expect(
      (
        await request(t.app)
          .post('/api/posts')
          .set('Authorization', bearer(t.tokenFor(owner)))
          .send({ title: '   ' })
      ).status,
    ).toBe(400);

    const events = await t
      .knex('outbox')
      .select('type')
      .where({ key: String(post.id) });
    expect(events.map((e) => e.type)).toEqual(['post.created']);
  });
});
