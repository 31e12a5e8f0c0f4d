import { EventTypes, payloadReader, type EventEnvelope } from '@mpb/contracts';
import type { Logger } from '@mpb/logger';
import type { ParentKind } from '../domain/attachment';
import type { AttachmentsService } from '../domain/attachments-service';

/**
 * The deletions handled, each with its parent kind and a reader of the one field used (the parent's
 * id), checked by the shared contract; the other fields are ignored.
 */
const DELETIONS = new Map<string, { kind: ParentKind; read: (e: EventEnvelope) => { id: number } }>([
  [EventTypes.PostDeleted, { kind: 'post', read: payloadReader(EventTypes.PostDeleted, ['id']) }],
  [EventTypes.CommentDeleted, { kind: 'comment', read: payloadReader(EventTypes.CommentDeleted, ['id']) }],
]);

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
    const deletion = DELETIONS.get(envelope.type);
    if (!deletion) return;
    const { kind } = deletion;
    const { id } = deletion.read(envelope);
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
