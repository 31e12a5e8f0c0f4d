import type { Kafka, Producer } from 'kafkajs';
import request from 'supertest';
import { deadLetterTopicOf, EventTypes, Topics } from '@mpb/contracts';
import { waitFor } from '@mpb/test-kit';
import { createComment } from './helpers/api';
import { suffix, uniquePostId } from './helpers/factories';
import { startTestComments, type TestComments } from './helpers/harness';
import { rawProducer, testKafka, TopicRecorder, type ReceivedMessage } from './helpers/kafka';
import { postDeleted, postEvent, publishPostEvent } from './helpers/post-events';
import { PostServiceStandIn } from './helpers/post-stand-in';

let t: TestComments;
let kafka: Kafka;
let producer: Producer;
let deadLetters: TopicRecorder;
const posts = new PostServiceStandIn();

beforeAll(async () => {
  t = await startTestComments({ postsAddress: await posts.start(), consume: true });
  kafka = testKafka('comments-poison-test');
  producer = await rawProducer(kafka);
  deadLetters = await new TopicRecorder(kafka, deadLetterTopicOf(Topics.posts)).start();
});

afterAll(async () => {
  await deadLetters.stop();
  await producer.disconnect();
  await t.close();
  await posts.stop();
});

/** The copy this test's consumer group parked (other groups reading the topic park their own). */
const parkedByUs = (marker: string) => (): Promise<ReceivedMessage | undefined> =>
  Promise.resolve(
    deadLetters.messages.find(
      (m) => m.value.includes(marker) && m.headers['x-dlt-consumer-group'] === t.config.KAFKA_GROUP_ID,
    ),
  );

describe('events comments cannot process', () => {
  it('parks malformed post events in blog.posts.v1.dlt with the reason, and goes on with the next', async () => {
    const postId = uniquePostId();
    posts.add(postId);
    const comment = await createComment(t, postId, 1);
    const key = String(postId);

    const garbage = `not json ${suffix()}`;
    const badPayload = postEvent(EventTypes.PostDeleted, postId, { id: 'x' });
    // All on one partition, in this order: the valid event is only reached past both poison ones.
    await publishPostEvent(producer, garbage, key);
    await publishPostEvent(producer, badPayload, key);
    await publishPostEvent(producer, postDeleted(postId), key);

    const parkedGarbage = await waitFor(parkedByUs(garbage), 20_000);
    expect(parkedGarbage.value).toBe(garbage);
    expect(parkedGarbage.headers).toMatchObject({
      'x-dlt-reason': expect.stringContaining('not JSON'),
      'x-original-topic': Topics.posts,
      'x-original-partition': expect.any(String),
      'x-original-offset': expect.any(String),
    });

    const parkedPayload = await waitFor(parkedByUs(badPayload.id), 20_000);
    expect(JSON.parse(parkedPayload.value)).toEqual(badPayload);
    expect(parkedPayload.headers['x-dlt-reason']).toMatch(/post\.deleted payload: .*id/);

    await waitFor(async () =>
      (await request(t.app).get(`/api/comments/${comment.id}`)).status === 404 ? true : undefined,
    );
    expect(t.events.consumer?.status().running).toBe(true);
  });
});
