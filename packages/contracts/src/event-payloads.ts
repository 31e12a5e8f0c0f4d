import Joi from 'joi';
import { EventTypes, InvalidEventError, type EventEnvelope, type EventType } from './events';

/*
 * The payload of every event type, defined once: a TypeScript type for producers and a joi schema
 * for everyone. A field the schema marks required is one the producer always writes and a consumer
 * may rely on; an optional one may be missing from events already on a topic (written before the
 * field existed), so a consumer reading it must handle its absence. Producers check what they build
 * with `contractViolations` in their unit tests; consumers read with `payloadReader`.
 * `payload-compatibility.ts` keeps changes compatible with the committed
 * `event-payloads.snapshot.json`.
 */

/** A positive integer that JavaScript represents exactly (every id, and metrics' like sequences). */
const id = Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER);
/** A count or an epoch: 0 or more. */
const count = Joi.number().integer().min(0).max(Number.MAX_SAFE_INTEGER);
/** An ISO 8601 instant (producers write `Date.prototype.toISOString()`). */
const time = Joi.string().isoDate();
const text = Joi.string();

export type UserRegisteredPayload = {
  id: number;
  username: string;
  name: string;
  created_at: string;
};

/** Public fields only: no consumer ever holds an e-mail or a password hash. */
const userRegistered = Joi.object<UserRegisteredPayload>({
  id: id.required(),
  username: text.required(),
  name: text.required(),
  created_at: time.required(),
});

export type PostCreatedPayload = {
  id: number;
  user_id: number;
  title: string;
  /** null when the post has no tag. */
  tag: string | null;
  created_at: string;
};

const postCreated = Joi.object<PostCreatedPayload>({
  id: id.required(),
  user_id: id.required(),
  title: text.required(),
  tag: text.allow(null).required(),
  created_at: time.required(),
});

/**
 * The post's state after the change, without its description: events stay small and reference
 * large content by id (a consumer that needs the text asks posts over gRPC).
 */
export type PostUpdatedPayload = {
  id: number;
  user_id: number;
  title: string;
  tag: string | null;
  updated_at: string;
};

const postUpdated = Joi.object<PostUpdatedPayload>({
  id: id.required(),
  user_id: id.required(),
  title: text.required(),
  tag: text.allow(null).required(),
  updated_at: time.required(),
});

export type PostDeletedPayload = {
  id: number;
  user_id: number;
  deleted_at: string;
};

const postDeleted = Joi.object<PostDeletedPayload>({
  id: id.required(),
  user_id: id.required(),
  deleted_at: time.required(),
});

/**
 * `viewer_id` (0 for an anonymous reader) and `epoch` (the Redis view epoch the view was counted
 * in) came after the old system's `{post_id, views}`, so they are optional; `views` is the count
 * the viewer was shown, for information only.
 */
export type PostViewedPayload = {
  post_id: number;
  viewer_id?: number;
  epoch?: number;
  views: number;
};

const postViewed = Joi.object<PostViewedPayload>({
  post_id: id.required(),
  viewer_id: count,
  epoch: count,
  views: count.required(),
});

/**
 * `post.liked` and `post.unliked`. `seq` orders one post's like decisions; it came after the old
 * system's `{post_id, user_id, likes}`, so it is optional. `likes` is for information only.
 */
export type PostLikePayload = {
  post_id: number;
  user_id: number;
  seq?: number;
  likes: number;
};

const postLike = Joi.object<PostLikePayload>({
  post_id: id.required(),
  user_id: id.required(),
  seq: id,
  likes: count.required(),
});

/** Comment events carry ids and times, never the text. */
export type CommentCreatedPayload = {
  id: number;
  post_id: number;
  user_id: number;
  created_at: string;
};

const commentCreated = Joi.object<CommentCreatedPayload>({
  id: id.required(),
  post_id: id.required(),
  user_id: id.required(),
  created_at: time.required(),
});

export type CommentUpdatedPayload = {
  id: number;
  post_id: number;
  user_id: number;
  updated_at: string;
};

const commentUpdated = Joi.object<CommentUpdatedPayload>({
  id: id.required(),
  post_id: id.required(),
  user_id: id.required(),
  updated_at: time.required(),
});

/** Why a comment was deleted: by a user, or with its post. */
export type CommentDeletedReason = 'user' | 'post_deleted';

export type CommentDeletedPayload = {
  id: number;
  post_id: number;
  user_id: number;
  deleted_at: string;
  reason: CommentDeletedReason;
};

const commentDeleted = Joi.object<CommentDeletedPayload>({
  id: id.required(),
  post_id: id.required(),
  user_id: id.required(),
  deleted_at: time.required(),
  reason: text.valid('user', 'post_deleted').required(),
});

/** The payload type of each event type. */
export type EventPayloads = {
  [EventTypes.UserRegistered]: UserRegisteredPayload;
  [EventTypes.PostCreated]: PostCreatedPayload;
  [EventTypes.PostUpdated]: PostUpdatedPayload;
  [EventTypes.PostDeleted]: PostDeletedPayload;
  [EventTypes.PostViewed]: PostViewedPayload;
  [EventTypes.PostLiked]: PostLikePayload;
  [EventTypes.PostUnliked]: PostLikePayload;
  [EventTypes.CommentCreated]: CommentCreatedPayload;
  [EventTypes.CommentUpdated]: CommentUpdatedPayload;
  [EventTypes.CommentDeleted]: CommentDeletedPayload;
};

export type PayloadSchemas = { [T in EventType]: Joi.ObjectSchema<EventPayloads[T]> };

/** The schema of each event type's payload: the registry the canary and the snapshot cover. */
export const EVENT_PAYLOAD_SCHEMAS: PayloadSchemas = {
  'user.registered': userRegistered,
  'post.created': postCreated,
  'post.updated': postUpdated,
  'post.deleted': postDeleted,
  'post.viewed': postViewed,
  'post.liked': postLike,
  'post.unliked': postLike,
  'comment.created': commentCreated,
  'comment.updated': commentUpdated,
  'comment.deleted': commentDeleted,
};

const isEventType = (type: string): type is EventType => Object.hasOwn(EVENT_PAYLOAD_SCHEMAS, type);

/**
 * What is wrong with a payload a producer built, one message per problem (none when it keeps the
 * contract). Strict: types are not converted, and a field the contract does not name is refused,
 * so a producer cannot add one without adding it here.
 */
export function contractViolations(type: string, payload: unknown): string[] {
  if (!isEventType(type)) return [`unknown event type ${type}`];
  const { error } = EVENT_PAYLOAD_SCHEMAS[type].validate(payload, { convert: false, abortEarly: false });
  return error ? error.details.map((d) => d.message) : [];
}

/**
 * A consumer's reader of the payload of `type` events: it checks only the fields the consumer
 * names (with the contract's rules for them, required or optional as the contract says) and
 * ignores the others, so producers can add fields and a consumer never depends on fields it does
 * not read. Like a joi validation with its defaults, a numeric string where the contract has a
 * number is accepted and converted. An invalid payload throws InvalidEventError ("<type> payload:
 * <reason>"), which the consumer parks in the dead-letter topic. Build it once, at module load.
 */
export function payloadReader<T extends EventType, K extends keyof EventPayloads[T] & string>(
  type: T,
  fields: readonly K[],
): (envelope: EventEnvelope) => Pick<EventPayloads[T], K> {
  const contract: Joi.ObjectSchema = EVENT_PAYLOAD_SCHEMAS[type];
  const schema = Joi.object(Object.fromEntries(fields.map((f) => [f, contract.extract(f)]))).unknown(true);
  return (envelope) => {
    const { value, error } = schema.validate(envelope.payload);
    if (error) throw new InvalidEventError(`${envelope.type} payload: ${error.message}`);
    return value as Pick<EventPayloads[T], K>;
  };
}
