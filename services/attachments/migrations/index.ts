import type { Migration } from '@mpb/service-kit';
import * as createAttachments from './20261127110100_create_attachments';
import * as createDeletedParents from './20261127110200_create_deleted_parents';
import * as createProcessedEvents from './20261127110300_create_processed_events';

/** Every migration of attachments, by timestamped name; migrateLatest applies them in name order. */
export const migrations: Record<string, Migration> = {
  '20261127110100_create_attachments': createAttachments,
  '20261127110200_create_deleted_parents': createDeletedParents,
  '20261127110300_create_processed_events': createProcessedEvents,
};
