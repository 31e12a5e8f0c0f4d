import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import request from 'supertest';
import { createEnvelope, deadLetterTopicOf, EventTypes, Topics, type EventType } from '@mpb/contracts';
import { readTopic, waitFor } from '@mpb/test-kit';
import {
  bearer,
  samples,
  startTestAttachments,
  suffix,
  uniqueId,
  type TestAttachments,
} from './helpers/harness';
import { OwnersStandIn } from './helpers/owners-stand-in';

const AUTHOR = 41;
const owners = new OwnersStandIn();
let t: TestAttachments;
let producer: Producer;

const deletedEvent = (type: EventType, id: number, payload: Record<string, unknown> = { id }) =>
  createEnvelope({ type, aggregateType: type.split('.')[0]!, aggregateId: id, payload, source: 'test' });

async function publish(topic: string, value: string, key = 'k'): Promise<void> {
  await producer.send({ topic, acks: -1, messages: [{ key, value }] });
}

const processed = async (eventId: string) =>
  (await t.knex('processed_events').where({ consumer: t.config.KAFKA_GROUP_ID, event_id: eventId })).length >
  0;

beforeAll(async () => {
  t = await startTestAttachments({
    ownersAddress: await owners.start(),
    config: { KAFKA_GROUP_ID: `attachments-test-${suffix()}` },
    consume: true,
  });
  const kafka = new Kafka({
    clientId: 'attachments-test',
    brokers: t.config.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  producer = kafka.producer();
  await producer.connect();
  // A new group may start at the end of the topics once it has joined: a sentinel published until
  // it is processed proves the consumer is reading before the tests publish theirs.
  for (const topic of [Topics.posts, Topics.comments]) {
    const sentinel = deletedEvent(
      topic === Topics.posts ? EventTypes.PostDeleted : EventTypes.CommentDeleted,
      uniqueId(),
    );
    await waitFor(
      async () => {
        if (await processed(sentinel.id)) return true;
        await publish(topic, JSON.stringify(sentinel));
        return undefined;
      },
      60_000,
      1000,
    );
  }
}, 90_000);

afterAll(async () => {
  await producer?.disconnect();
  await t.close();
  await owners.stop();
});

async function uploadTo(kind: 'post' | 'comment', id: number, count = 2) {
  if (kind === 'post') owners.addPost(id, AUTHOR);
  else owners.addComment(id, AUTHOR);
  let req = request(t.app)
    .post(`/api/${kind}s/${id}/attachments`)
    .set('Authorization', bearer(t.tokens.sign(AUTHOR)));
  for (let i = 0; i < count; i += 1)
    req = req.attach('files', samples.png(), { filename: `${i}.png`, contentType: 'image/png' });
  const res = await req;
  expect(res.status).toBe(201);
  return res.body as Array<{ id: number; file_url: string }>;
}

describe('cascade', () => {
  it.each([
    ['post', EventTypes.PostDeleted, Topics.posts],
    ['comment', EventTypes.CommentDeleted, Topics.comments],
  ] as const)('a %s deletion removes its attachments and objects, once', async (kind, type, topic) => {
    const id = uniqueId();
    const stored = await uploadTo(kind, id);
    expect(await t.bucketKeys(`${kind}s/${id}/`)).toHaveLength(2);
    const event = deletedEvent(type, id);
    await publish(topic, JSON.stringify(event), String(id));
    await waitFor(
      async () => ((await t.bucketKeys(`${kind}s/${id}/`)).length === 0 ? true : undefined),
      10_000,
    );
    await waitFor(async () => ((await processed(event.id)) ? true : undefined), 10_000);
    expect(await t.knex('attachments').where({ parent_type: kind, parent_id: id })).toEqual([]);
    expect((await request(t.app).get(stored[0]!.file_url)).status).toBe(404);

    // A redelivery changes nothing; a later upload to the deleted parent is refused.
    await publish(topic, JSON.stringify(event), String(id));
    const late = await request(t.app)
      .post(`/api/${kind}s/${id}/attachments`)
      .set('Authorization', bearer(t.tokens.sign(AUTHOR)))
      .attach('files', samples.png(), { filename: 'late.png', contentType: 'image/png' });
    expect(late.status).toBe(404);
    expect(await t.bucketKeys(`${kind}s/${id}/`)).toEqual([]);
  });

  it('parks a poison event in the dead-letter topic and keeps consuming', async () => {
    const marker = `poison-${suffix()}`;
    const dlt = await readTopic({
      brokers: t.config.KAFKA_BROKERS,
      clientId: `attachments-dlt-${suffix()}`,
      topic: deadLetterTopicOf(Topics.posts),
    });
    try {
      const poison = deletedEvent(EventTypes.PostDeleted, 1, { id: marker });
      await publish(Topics.posts, JSON.stringify(poison), marker);
      const id = uniqueId();
      await uploadTo('post', id, 1);
      await publish(Topics.posts, JSON.stringify(deletedEvent(EventTypes.PostDeleted, id)), marker);
      await waitFor(
        async () => ((await t.bucketKeys(`posts/${id}/`)).length === 0 ? true : undefined),
        15_000,
      );
      await waitFor(
        async () => (dlt.received.some((m) => m.value?.toString().includes(marker)) ? true : undefined),
        15_000,
      );
    } finally {
      await dlt.stop();
    }
  });
});

describe('reconciliation', () => {
  it('removes stale pending rows with their objects and unreferenced objects, and keeps ready ones', async () => {
    const postId = uniqueId();
    const [kept] = await uploadTo('post', postId, 1);
    const prefix = `${t.config.S3_KEY_PREFIX}posts/${postId}/`;
    const put = (key: string) =>
      t.s3.send(new PutObjectCommand({ Bucket: t.config.S3_BUCKET, Key: key, Body: 'left behind' }));
    // A crash after the object was written but before the row became ready.
    const pendingKey = `${prefix}pending-${suffix()}`;
    await put(pendingKey);
    await t.knex('attachments').insert({
      parent_type: 'post',
      parent_id: postId,
      user_id: AUTHOR,
      object_key: pendingKey,
      file_name: 'a.png',
      file_type: 'image/png',
      state: 'pending',
    });
    // A crash after the object was written but before any row existed, and a delete that stopped halfway.
    const orphanKey = `${prefix}orphan-${suffix()}`;
    await put(orphanKey);
    const [deleting] = await t
      .knex('attachments')
      .insert({
        parent_type: 'post',
        parent_id: postId,
        user_id: AUTHOR,
        object_key: `${prefix}deleting-${suffix()}`,
        file_name: 'b.png',
        file_type: 'image/png',
        state: 'deleting',
      })
      .returning('id');
    await new Promise((r) => setTimeout(r, 2100));

    const report = await t.context.attachments.reconcile(2);
    expect(report).toEqual({ staleRows: 2, orphanObjects: 1 });
    expect(await t.bucketKeys(`posts/${postId}/`)).toHaveLength(1);
    const rows = await t.knex('attachments').where({ parent_id: postId }).select('id', 'state');
    expect(rows).toEqual([{ id: String(kept!.id), state: 'ready' }]);
    expect(rows.map((r) => r.id)).not.toContain(deleting.id);
    expect((await request(t.app).get(kept!.file_url)).status).toBe(200);
    // Nothing left to do: a second run finds nothing.
    expect(await t.context.attachments.reconcile(2)).toEqual({ staleRows: 0, orphanObjects: 0 });
  });
});

describe('readiness of the events consumer (runs last: it stops the consumer)', () => {
  it('is ok while the consumer runs and keeps up, and degraded, still ready, once it stopped', async () => {
    const running = await request(t.app).get('/readyz');
    expect(running.status).toBe(200);
    expect(running.body).toMatchObject({ status: 'ok', checks: { consumer: 'ok', kafka: 'ok' } });
    await t.consumer.stop();
    const stopped = await request(t.app).get('/readyz');
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({
      status: 'degraded',
      checks: { consumer: 'degraded: consumer not running' },
    });
  });
});
