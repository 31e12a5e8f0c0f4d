import {
  contractViolations,
  createEnvelope,
  EventTypes,
  InvalidEventError,
  payloadReader,
  type EventEnvelope,
} from '@mpb/contracts';
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

  it('publishes payloads that keep the shared event contracts', () => {
    const viewed = viewedEvent({ post_id: 5, viewer_id: 7, epoch: 1_700_000_000_000_000, views: 3 });
    const liked = likeEvent(true, { post_id: 5, user_id: 9, seq: 41, likes: 1 });
    const unliked = likeEvent(false, { post_id: 5, user_id: 9, seq: 42, likes: 0 });
    for (const e of [viewed, liked, unliked]) expect(contractViolations(e.type, e.payload)).toEqual([]);
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

describe('the hand-written check of the hot path', () => {
  const values = [undefined, null, -1, 0, 1, 1.5, '3', Number.MAX_SAFE_INTEGER, 2 ** 53];
  const triples = values.flatMap((a) => values.flatMap((b) => values.map((c) => [a, b, c] as const)));
  const outcome = (read: () => unknown): unknown => {
    try {
      return read();
    } catch (err) {
      return err instanceof InvalidEventError ? `refused: ${err.message}` : err;
    }
  };

  it('accepts and refuses the views the contract does, with the same values and reasons', () => {
    const read = payloadReader(EventTypes.PostViewed, ['post_id', 'viewer_id', 'epoch']);
    for (const [post_id, viewer_id, epoch] of triples) {
      const e = envelope('post.viewed', { post_id, viewer_id, epoch, views: 1 });
      const contract = outcome(() => {
        const p = read(e);
        return {
          kind: 'view',
          postId: p.post_id,
          viewerId: p.viewer_id ?? 0,
          epoch: p.epoch ?? 0,
          offset: '1',
        };
      });
      expect(outcome(() => toMetricEvent(e, '1'))).toEqual(contract);
    }
  });

  it.each(['post.liked', 'post.unliked'] as const)(
    'accepts and refuses the %s events the contract does, with the same values and reasons',
    (type) => {
      const read = payloadReader(type, ['post_id', 'user_id', 'seq']);
      for (const [post_id, user_id, seq] of triples) {
        const e = envelope(type, { post_id, user_id, seq, likes: 1 });
        const contract = outcome(() => {
          const p = read(e);
          const kind = type === 'post.liked' ? 'like' : 'unlike';
          const order = p.seq ?? Date.parse(e.time) * 1000;
          return { kind, postId: p.post_id, userId: p.user_id, seq: order, offset: '1' };
        });
        expect(outcome(() => toMetricEvent(e, '1'))).toEqual(contract);
      }
    },
  );
});
