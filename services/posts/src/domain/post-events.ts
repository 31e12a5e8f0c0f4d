import { createEnvelope, EventTypes, type EventEnvelope, type TraceContext } from '@mpb/contracts';
import { postCreatedPayload, postDeletedPayload, postUpdatedPayload, type Post } from './post';

/** The service's name: the `source` of its events, and its name in logs, metrics and traces. */
export const SERVICE_NAME = 'posts';
export const POST_AGGREGATE = 'post';

/** The `post.created` event of a post just written, continuing the trace of the request. */
export const postCreatedEvent = (post: Post, trace: TraceContext): EventEnvelope =>
  createEnvelope({
    type: EventTypes.PostCreated,
    aggregateType: POST_AGGREGATE,
    aggregateId: post.id,
    payload: postCreatedPayload(post),
    source: SERVICE_NAME,
    trace,
  });

/** The `post.updated` event of a post as it is after the change. */
export const postUpdatedEvent = (post: Post, trace: TraceContext): EventEnvelope =>
  createEnvelope({
    type: EventTypes.PostUpdated,
    aggregateType: POST_AGGREGATE,
    aggregateId: post.id,
    payload: postUpdatedPayload(post),
    source: SERVICE_NAME,
    trace,
  });

/** The `post.deleted` event of a post just soft-deleted. */
export const postDeletedEvent = (post: Post, trace: TraceContext): EventEnvelope =>
  createEnvelope({
    type: EventTypes.PostDeleted,
    aggregateType: POST_AGGREGATE,
    aggregateId: post.id,
    payload: postDeletedPayload(post),
    source: SERVICE_NAME,
    trace,
  });
