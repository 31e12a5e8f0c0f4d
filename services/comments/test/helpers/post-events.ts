import type { Producer } from 'kafkajs';
import { createEnvelope, EventTypes, Topics, type EventEnvelope, type EventType } from '@mpb/contracts';

/** A post event as the posts service would publish it. */
export const postEvent = (
  type: EventType,
  postId: number,
  payload: Record<string, unknown> = { id: postId, user_id: 1 },
): EventEnvelope =>
  createEnvelope({
    type,
    aggregateType: 'post',
    aggregateId: postId,
    payload,
    source: 'posts',
    trace: { traceparent: `00-${'e'.repeat(32)}-${'f'.repeat(16)}-01` },
  });

export const postDeleted = (postId: number): EventEnvelope =>
  postEvent(EventTypes.PostDeleted, postId, { id: postId, user_id: 1, deleted_at: new Date().toISOString() });

/**
 * Publishes to blog.posts.v1, keyed by the post id unless a key is given (the key picks the partition,
 * so a later message with the same key is consumed after this one).
 */
export async function publishPostEvent(
  producer: Producer,
  envelope: EventEnvelope | string,
  key: string = typeof envelope === 'string' ? 'raw' : envelope.aggregate_id,
): Promise<void> {
  const value = typeof envelope === 'string' ? envelope : JSON.stringify(envelope);
  await producer.send({ topic: Topics.posts, acks: -1, messages: [{ key, value }] });
}
