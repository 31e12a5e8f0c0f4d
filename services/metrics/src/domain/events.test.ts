import { createEnvelope, EventTypes, InvalidEventError, type EventEnvelope } from '@mpb/contracts';
import { deletedPostOf, likeEvent, toMetricEvent, viewedEvent } from './events';

const envelope = (type: string, payload: Record<string, unknown>): EventEnvelope => ({
  ...createEnvelope({
    type: EventTypes.PostViewed,
    aggregateType: 'post',
    aggregateId: 1,
    payload,
    source: 'test',
  }),
  type,
});

describe('metric events', () => {
  it('round-trips the events metrics publishes', () => {
    const viewed = viewedEvent({ post_id: 5, viewer_id: 0, epoch: 1_700_000_000_000_000, views: 3 });
    expect(viewed).toMatchObject({
      type: 'post.viewed',
      aggregate_type: 'post',
      aggregate_id: '5',
      source: 'metrics',
    });
    expect(toMetricEvent(viewed as EventEnvelope, '7')).toEqual({
      kind: 'view',
      postId: 5,
      viewerId: 0,
      epoch: 1_700_000_000_000_000,
      offset: '7',
    });
    const unliked = likeEvent(false, { post_id: 5, user_id: 9, seq: 42, likes: 0 });
    expect(unliked.type).toBe('post.unliked');
    expect(toMetricEvent(unliked as EventEnvelope, '8')).toEqual({
      kind: 'unlike',
      postId: 5,
      userId: 9,
      seq: 42,
      offset: '8',
    });
  });

  it('accepts the old payloads: a view without epoch, a like ordered by its envelope time', () => {
    expect(toMetricEvent(envelope('post.viewed', { post_id: 3, views: 99 }), '1')).toMatchObject({
      kind: 'view',
      viewerId: 0,
      epoch: 0,
    });
    const old = envelope('post.liked', { post_id: 3, user_id: 4, likes: 12 });
    expect(toMetricEvent(old, '2')).toMatchObject({ kind: 'like', seq: Date.parse(old.time) * 1000 });
  });

  it('refuses what it cannot fold', () => {
    expect(() => toMetricEvent(envelope('post.viewed', { post_id: 0 }), '1')).toThrow(InvalidEventError);
    expect(() => toMetricEvent(envelope('post.liked', { post_id: 1 }), '1')).toThrow(InvalidEventError);
    expect(() => toMetricEvent(envelope('post.shared', { post_id: 1 }), '1')).toThrow(InvalidEventError);
  });

  it('reads the post of a post.deleted event', () => {
    expect(deletedPostOf(envelope('post.deleted', { id: 12, user_id: 3, deleted_at: 'x' }))).toBe(12);
    expect(() => deletedPostOf(envelope('post.deleted', { id: 'abc' }))).toThrow(InvalidEventError);
  });
});
