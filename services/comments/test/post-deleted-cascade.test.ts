import type { Kafka, Producer } from 'kafkajs';
import request from 'supertest';
import { EventTypes, Topics, type EventEnvelope } from '@mpb/contracts';
import { waitFor } from '@mpb/test-kit';
import { createComment, type CommentBody } from './helpers/api';
import { uniquePostId, uniqueUserId } from './helpers/factories';
import { startTestComments, type TestComments } from './helpers/harness';
import { rawProducer, testKafka, TopicRecorder } from './helpers/kafka';
import { postDeleted, postEvent, publishPostEvent } from './helpers/post-events';
import { PostServiceStandIn } from './helpers/post-stand-in';
import { bearer } from './helpers/tokens';
import { sleep } from './helpers/wait';

type DeletedPayload = { id: number; post_id: number; user_id: number; deleted_at: string; reason: string };

let t: TestComments;
let kafka: Kafka;
let producer: Producer;
let commentEvents: TopicRecorder;
const posts = new PostServiceStandIn();

beforeAll(async () => {
  // Chunks of 2, so the bounded-transaction path runs with a handful of comments.
  t = await startTestComments({ postsAddress: await posts.start(), consume: true, cascadeChunkSize: 2 });
  kafka = testKafka('comments-cascade-test');
  producer = await rawProducer(kafka);
  commentEvents = await new TopicRecorder(kafka, Topics.comments).start();
});

afterAll(async () => {
  await commentEvents.stop();
  await producer.disconnect();
  await t.close();
  await posts.stop();
});

async function postWithComments(count: number): Promise<{ postId: number; comments: CommentBody[] }> {
  const postId = uniquePostId();
  posts.add(postId);
  const comments: CommentBody[] = [];
  for (let i = 0; i < count; i += 1) comments.push(await createComment(t, postId, uniqueUserId(), `c${i}`));
  return { postId, comments };
}

const listOf = async (postId: number): Promise<CommentBody[]> =>
  (await request(t.app).get(`/api/comments?post_id=${postId}&limit=100`)).body as CommentBody[];

const liveRows = async (postId: number): Promise<number> =>
  (await t.knex('comments').where({ post_id: postId }).whereNull('deleted_at')).length;

/** The cascade has soft-deleted every comment of the post (reads hide them from the delete on). */
const untilGone = (postId: number) =>
  waitFor(async () => ((await liveRows(postId)) === 0 ? true : undefined), 20_000);

const deletedEventsOf = (postId: number) =>
  commentEvents.envelopes<EventEnvelope<DeletedPayload>>(
    (e) => e.type === EventTypes.CommentDeleted && e.payload?.post_id === postId,
  );

const outboxDeletedCount = async (postId: number): Promise<number> => {
  const [row] = await t
    .knex('outbox')
    .where({ type: EventTypes.CommentDeleted })
    .whereRaw("(envelope->'payload'->>'post_id')::bigint = ?", [postId])
    .count<{ count: string }[]>('* as count');
  return Number(row?.count);
};

describe('post.deleted cascade', () => {
  it("removes the post's comments and announces each one once on blog.comments.v1", async () => {
    const { postId, comments } = await postWithComments(5);
    const control = await postWithComments(1);
    const event = postDeleted(postId);

    await publishPostEvent(producer, event);
    await untilGone(postId);

    for (const c of comments) {
      expect((await request(t.app).get(`/api/comments/${c.id}`)).status).toBe(404);
    }
    expect(await listOf(control.postId)).toHaveLength(1);

    const announced = await waitFor(async () => {
      const found = deletedEventsOf(postId);
      return found.length >= comments.length ? found : undefined;
    });
    await sleep(300);
    expect(deletedEventsOf(postId)).toHaveLength(comments.length);
    expect(announced.map((e) => e.payload.id).sort()).toEqual(comments.map((c) => c.id).sort());
    for (const e of announced) {
      const comment = comments.find((c) => c.id === e.payload.id)!;
      expect(e).toMatchObject({
        aggregate_type: 'comment',
        aggregate_id: String(comment.id),
        source: 'comments',
        trace: event.trace,
      });
      expect(e.payload).toEqual({
        id: comment.id,
        post_id: postId,
        user_id: comment.user_id,
        deleted_at: expect.any(String),
        reason: 'post_deleted',
      });
    }
    const keys = commentEvents.messages
      .filter((m) => announced.some((e) => m.value.includes(e.id)))
      .map((m) => m.key);
    expect(keys.sort()).toEqual(comments.map((c) => String(c.id)).sort());
  });

  it('refuses new comments on the deleted post, even while posts still says it exists', async () => {
    const { postId } = await postWithComments(1);
    await publishPostEvent(producer, postDeleted(postId));
    await untilGone(postId);
    const res = await request(t.app)
      .post(`/api/posts/${postId}/comments`)
      .set('Authorization', bearer(t.tokens.sign(1)))
      .send({ text: 'too late' });
    expect(res).toMatchObject({ status: 404, body: { error: 'post not found' } });
    expect(await liveRows(postId)).toBe(0);
    // The post is recorded as deleted: its list is a 404 from this service's own data.
    expect(await request(t.app).get(`/api/comments?post_id=${postId}`)).toMatchObject({
      status: 404,
      body: { error: 'post not found' },
    });
  });

  it('changes nothing when the same post.deleted is delivered again', async () => {
    const { postId, comments } = await postWithComments(3);
    const event = postDeleted(postId);
    await publishPostEvent(producer, event);
    await untilGone(postId);
    expect(await outboxDeletedCount(postId)).toBe(3);
    const before = await t
      .knex('comments')
      .select('id', 'deleted_at')
      .where({ post_id: postId })
      .orderBy('id');

    // Redelivery, then a marker on the same partition: once the marker's effect shows, the
    // redelivered event has been consumed too.
    await publishPostEvent(producer, event);
    const marker = await postWithComments(1);
    await publishPostEvent(producer, postDeleted(marker.postId), event.aggregate_id);
    await untilGone(marker.postId);

    expect(await outboxDeletedCount(postId)).toBe(3);
    expect(
      await t.knex('comments').select('id', 'deleted_at').where({ post_id: postId }).orderBy('id'),
    ).toEqual(before);
    const ledger = await t
      .knex('processed_events')
      .where({ consumer: t.config.KAFKA_GROUP_ID, event_id: event.id });
    expect(ledger).toHaveLength(1);
    await waitFor(async () => (deletedEventsOf(marker.postId).length === 1 ? true : undefined));
    await sleep(300);
    expect(deletedEventsOf(postId)).toHaveLength(comments.length);
  });

  it('acknowledges the other post events without touching comments', async () => {
    const { postId } = await postWithComments(2);
    await publishPostEvent(producer, postEvent(EventTypes.PostUpdated, postId));
    await publishPostEvent(producer, postEvent(EventTypes.PostCreated, postId));
    const marker = await postWithComments(1);
    await publishPostEvent(producer, postDeleted(marker.postId), String(postId));
    await untilGone(marker.postId);
    expect(await listOf(postId)).toHaveLength(2);
  });
});
