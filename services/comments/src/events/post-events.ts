import { EventTypes, payloadReader, type EventEnvelope } from '@mpb/contracts';
import type { Logger } from '@mpb/logger';
import type { CommentsService } from '../domain/comments-service';

/** The one field of `post.deleted` read here, checked by the shared contract; the rest is ignored. */
const readPostDeleted = payloadReader(EventTypes.PostDeleted, ['id']);

/**
 * Handles blog.posts.v1. Only `post.deleted` matters here; other post events are acknowledged and
 * skipped. An invalid payload throws InvalidEventError, which parks the event in the dead-letter
 * topic; a database failure is transient and retried by the consumer.
 */
export function postEventsHandler(o: {
  comments: CommentsService;
  /** Key of the processed-events ledger: the consumer group. */
  consumer: string;
  logger: Logger;
}): (envelope: EventEnvelope) => Promise<void> {
  return async (envelope) => {
    if (envelope.type !== EventTypes.PostDeleted) return;
    const { id: postId } = readPostDeleted(envelope);
    // Reads on this replica stop asking posts about it at once, even before the cascade commits.
    o.comments.forgetDeletedPost(postId);
    const deleted = await o.comments.removeCommentsOfDeletedPost(postId, {
      consumer: o.consumer,
      eventId: envelope.id,
      trace: envelope.trace,
    });
    if (deleted > 0) {
      o.logger.info({ post_id: postId, event_id: envelope.id, deleted }, "deleted a deleted post's comments");
    }
  };
}
