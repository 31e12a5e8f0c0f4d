import Joi from 'joi';
import { EventTypes, parsePayload, type EventEnvelope } from '@mpb/contracts';
import type { Logger } from '@mpb/logger';
import type { ParentKind } from '../domain/attachment';
import type { AttachmentsService } from '../domain/attachments-service';

/** The part of `post.deleted` / `comment.deleted` this service reads; producers may add fields. */
const deletedPayloadSchema = Joi.object<{ id: number }>({
  id: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER).required(),
});

const KIND_OF_EVENT: Partial<Record<string, ParentKind>> = {
  [EventTypes.PostDeleted]: 'post',
  [EventTypes.CommentDeleted]: 'comment',
};

/**
 * Handles blog.posts.v1 and blog.comments.v1. Only the two deletions matter; other events are
 * acknowledged and skipped. An invalid payload throws InvalidEventError (parked in the topic's
 * dead-letter twin); database or S3 failures are transient and retried by the consumer.
 */
export function parentEventsHandler(o: {
  attachments: AttachmentsService;
  /** Key of the processed-events ledger: the consumer group. */
  consumer: string;
  logger: Logger;
}): (envelope: EventEnvelope) => Promise<void> {
  return async (envelope) => {
    const kind = KIND_OF_EVENT[envelope.type];
    if (!kind) return;
    const { id } = parsePayload(envelope, deletedPayloadSchema);
    // Reads on this replica stop asking about the parent at once, even before the cascade commits.
    o.attachments.forgetDeletedParent({ kind, id });
    const removed = await o.attachments.removeAttachmentsOf(
      { kind, id },
      { consumer: o.consumer, eventId: envelope.id },
    );
    if (removed > 0)
      o.logger.info(
        { [`${kind}_id`]: id, event_id: envelope.id, removed },
        `removed a deleted ${kind}'s attachments`,
      );
  };
}
