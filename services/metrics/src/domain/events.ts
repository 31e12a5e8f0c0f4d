import Joi from 'joi';
import {
  createEnvelope,
  EventTypes,
  InvalidEventError,
  parsePayload,
  type EventEnvelope,
  type TraceContext,
} from '@mpb/contracts';

export const SOURCE = 'metrics';
export const POST_AGGREGATE = 'post';

/**
 * `post.viewed`. `epoch` names the Redis view epoch the view was counted in (so the API can tell
 * which pending views PostgreSQL has folded); `views` is the count the viewer was shown, for
 * information only: the consumer never trusts absolute counts.
 */
export type PostViewedPayload = {
  post_id: number;
  viewer_id: number;
  epoch: number;
  views: number;
};

/**
 * `post.liked` / `post.unliked`. `seq` orders one post's like decisions (taken atomically in Redis),
 * so the last decision wins in PostgreSQL whatever order its events arrive in; `likes` is for
 * information only.
 */
export type PostLikePayload = {
  post_id: number;
  user_id: number;
  seq: number;
  likes: number;
};

export function viewedEvent(
  p: PostViewedPayload,
  trace: TraceContext = {},
): EventEnvelope<PostViewedPayload> {
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
  p: PostLikePayload,
  trace: TraceContext = {},
): EventEnvelope<PostLikePayload> {
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

const id = Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER);
const counter = Joi.number().integer().min(0).max(Number.MAX_SAFE_INTEGER);

// Only the fields the consumer needs; producers may add others.
const viewedSchema = Joi.object<{ post_id: number; viewer_id: number; epoch: number }>({
  post_id: id.required(),
  viewer_id: counter.default(0),
  epoch: counter.default(0),
});
const likeSchema = Joi.object<{ post_id: number; user_id: number; seq?: number }>({
  post_id: id.required(),
  user_id: id.required(),
  seq: id,
});

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
 * topic); anything else goes through the schemas, which accept the same and name what is wrong.
 */
export function toMetricEvent(envelope: EventEnvelope, offset: string): MetricEvent {
  const raw = envelope.payload;
  switch (envelope.type) {
    case EventTypes.PostViewed: {
      if (isId(raw.post_id) && isCount(raw.viewer_id) && isCount(raw.epoch)) {
        return { kind: 'view', postId: raw.post_id, viewerId: raw.viewer_id, epoch: raw.epoch, offset };
      }
      const p = parsePayload(envelope, viewedSchema);
      return { kind: 'view', postId: p.post_id, viewerId: p.viewer_id, epoch: p.epoch, offset };
    }
    case EventTypes.PostLiked:
    case EventTypes.PostUnliked: {
      const kind = envelope.type === EventTypes.PostLiked ? 'like' : 'unlike';
      if (isId(raw.post_id) && isId(raw.user_id) && isId(raw.seq)) {
        return { kind, postId: raw.post_id, userId: raw.user_id, seq: raw.seq, offset };
      }
      const p = parsePayload(envelope, likeSchema);
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

const deletedSchema = Joi.object<{ id: number }>({ id: id.required() });

/** The post a `post.deleted` event removes. */
export const deletedPostOf = (envelope: EventEnvelope): number => parsePayload(envelope, deletedSchema).id;
