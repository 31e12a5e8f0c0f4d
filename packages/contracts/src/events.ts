import { randomUUID } from 'node:crypto';
import Joi from 'joi';

/** Every event type of the platform. Names follow the old system. */
export const EventTypes = {
  UserRegistered: 'user.registered',
  PostCreated: 'post.created',
  PostUpdated: 'post.updated',
  PostDeleted: 'post.deleted',
  PostViewed: 'post.viewed',
  PostLiked: 'post.liked',
  PostUnliked: 'post.unliked',
  CommentCreated: 'comment.created',
  CommentUpdated: 'comment.updated',
  CommentDeleted: 'comment.deleted',
} as const;
export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

/** One topic per aggregate, keyed by the aggregate id so one aggregate's events stay in order. */
export const Topics = {
  users: 'blog.users.v1',
  posts: 'blog.posts.v1',
  comments: 'blog.comments.v1',
  metrics: 'blog.metrics.v1',
} as const;
export type Topic = (typeof Topics)[keyof typeof Topics];

export const TOPIC_OF_EVENT: Record<EventType, Topic> = {
  'user.registered': Topics.users,
  'post.created': Topics.posts,
  'post.updated': Topics.posts,
  'post.deleted': Topics.posts,
  'post.viewed': Topics.metrics,
  'post.liked': Topics.metrics,
  'post.unliked': Topics.metrics,
  'comment.created': Topics.comments,
  'comment.updated': Topics.comments,
  'comment.deleted': Topics.comments,
};

export const deadLetterTopicOf = (topic: string): string => `${topic}.dlt`;

export interface TraceContext {
  traceparent?: string;
  tracestate?: string;
}

/** The one envelope for every event on Kafka. */
export interface EventEnvelope<P = Record<string, unknown>> {
  id: string;
  type: string;
  version: number;
  time: string;
  /** The service that produced it. */
  source: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: P;
  trace: TraceContext;
}

export interface NewEvent<P> {
  type: EventType;
  aggregateType: string;
  aggregateId: string | number;
  payload: P;
  source: string;
  version?: number;
  trace?: TraceContext;
  time?: Date;
}

export function createEnvelope<P>(e: NewEvent<P>): EventEnvelope<P> {
  return {
    id: randomUUID(),
    type: e.type,
    version: e.version ?? 1,
    time: (e.time ?? new Date()).toISOString(),
    source: e.source,
    aggregate_type: e.aggregateType,
    aggregate_id: String(e.aggregateId),
    payload: e.payload,
    trace: e.trace ?? {},
  };
}

const envelopeSchema = Joi.object({
  id: Joi.string().guid().required(),
  type: Joi.string()
    .pattern(/^[a-z]+(\.[a-z_]+)+$/)
    .max(100)
    .required(),
  version: Joi.number().integer().min(1).required(),
  time: Joi.string().isoDate().required(),
  source: Joi.string().max(100).required(),
  aggregate_type: Joi.string().max(100).required(),
  aggregate_id: Joi.string().max(100).required(),
  payload: Joi.object().unknown(true).required(),
  trace: Joi.object({
    traceparent: Joi.string().max(200),
    tracestate: Joi.string().max(1000),
  })
    .unknown(true)
    .default({}),
}).unknown(true);

export class InvalidEventError extends Error {
  constructor(readonly reason: string) {
    super(`invalid event: ${reason}`);
    this.name = 'InvalidEventError';
  }
}

/** Parses and checks an envelope read from Kafka; throws InvalidEventError with the reason. */
export function parseEnvelope(raw: Buffer | string | null): EventEnvelope {
  if (raw === null || raw.length === 0) throw new InvalidEventError('empty message');
  let data: unknown;
  try {
    data = JSON.parse(raw.toString());
  } catch {
    throw new InvalidEventError('not JSON');
  }
  const { value, error } = envelopeSchema.validate(data, { abortEarly: true });
  if (error) throw new InvalidEventError(error.message);
  return value as EventEnvelope;
}
