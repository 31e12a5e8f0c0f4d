import {
  createEnvelope,
  EventTypes,
  InvalidEventError,
  payloadReader,
  type EventEnvelope,
  type PostLikePayload,
  type PostViewedPayload,
  type TraceContext,
} from '@mpb/contracts';

export const SOURCE = 'metrics';
export const POST_AGGREGATE = 'post';

/**
 * Metrics always writes every field of its events, the optional ones of the contract too (they are
 * optional there because older producers sent none): `epoch` names the Redis view epoch the view
 * was counted in (so the API can tell which pending views PostgreSQL has folded), `seq` orders one
 * post's like decisions (taken atomically in Redis), so the last decision wins in PostgreSQL
 * whatever order its events arrive in. `views` and `likes` are for information only: the consumer
 * never trusts absolute counts.
 */
export type ViewedEventPayload = Required<PostViewedPayload>;
export type LikeEventPayload = Required<PostLikePayload>;

export function viewedEvent(
  p: ViewedEventPayload,
  trace: TraceContext = {},
): EventEnvelope<ViewedEventPayload> {
  return createEnvelope({
    type: EventTypes.PostViewed,
    aggregateType: POST_AGGREGATE,
    aggregateId: p.post_id,
    payload: p,
    source: SOURCE,
    trace,
  });
}

export function likeEvent(
  liked: boolean,
  p: LikeEventPayload,
  trace: TraceContext = {},
): EventEnvelope<LikeEventPayload> {
  return createEnvelope({
    type: liked ? EventTypes.PostLiked : EventTypes.PostUnliked,
    aggregateType: POST_AGGREGATE,
    aggregateId: p.post_id,
    payload: p,
    source: SOURCE,
    trace,
  });
}

/** One metric event as the consumer folds it; `offset` is its Kafka offset (64-bit, decimal). */
export type MetricEvent =
  | { kind: 'view'; postId: number; viewerId: number; epoch: number; offset: string }
  | { kind: 'like' | 'unlike'; postId: number; userId: number; seq: number; offset: string };

// The fields the consumer reads, checked by the shared contracts; producers may add others.
const readViewed = payloadReader(EventTypes.PostViewed, ['post_id', 'viewer_id', 'epoch']);
const readLike = payloadReader(EventTypes.PostLiked, ['post_id', 'user_id', 'seq']);
const readUnlike = payloadReader(EventTypes.PostUnliked, ['post_id', 'user_id', 'seq']);
const readDeleted = payloadReader(EventTypes.PostDeleted, ['id']);

/**
 * A like event from a producer that sends no sequence is ordered by its envelope time (in
 * microseconds, the unit of the sequences metrics itself assigns).
 */
const sequenceOfTime = (time: string): number => Date.parse(time) * 1000;

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Reads a metric event; an event it cannot use throws InvalidEventError (the consumer parks it).
 * Payloads as metrics writes them are checked by hand (this runs for every event of the hot
 * topic) with the contract's rules for these fields; anything else goes through the contract's
 * readers, which accept the same and name what is wrong (events.test.ts compares the two).
 */
export function toMetricEvent(envelope: EventEnvelope, offset: string): MetricEvent {
  const raw = envelope.payload;
  switch (envelope.type) {
    case EventTypes.PostViewed: {
      if (isId(raw.post_id) && isCount(raw.viewer_id) && isCount(raw.epoch)) {
        return { kind: 'view', postId: raw.post_id, viewerId: raw.viewer_id, epoch: raw.epoch, offset };
      }
      // An older producer's view has no viewer (anonymous) and no epoch (0, before any epoch).
      const p = readViewed(envelope);
      return { kind: 'view', postId: p.post_id, viewerId: p.viewer_id ?? 0, epoch: p.epoch ?? 0, offset };
    }
    case EventTypes.PostLiked:
    case EventTypes.PostUnliked: {
      const kind = envelope.type === EventTypes.PostLiked ? 'like' : 'unlike';
      if (isId(raw.post_id) && isId(raw.user_id) && isId(raw.seq)) {
        return { kind, postId: raw.post_id, userId: raw.user_id, seq: raw.seq, offset };
      }
      const p = kind === 'like' ? readLike(envelope) : readUnlike(envelope);
      return {
        kind,
        postId: p.post_id,
        userId: p.user_id,
        seq: p.seq ?? sequenceOfTime(envelope.time),
        offset,
      };
    }
    default:
      throw new InvalidEventError(`metrics cannot fold events of type ${envelope.type}`);
  }
}

/** The post a `post.deleted` event removes. */
export const deletedPostOf = (envelope: EventEnvelope): number => readDeleted(envelope).id;
