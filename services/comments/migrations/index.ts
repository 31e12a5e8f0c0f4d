import type { Migration } from '@mpb/service-kit';
import * as createComments from './20261127100100_create_comments';
import * as createOutbox from './20261127100200_create_outbox';
import * as createProcessedEvents from './20261127100300_create_processed_events';
import * as createDeletedPosts from './20261127100400_create_deleted_posts';
import * as addOutboxParking from './20261206100500_add_outbox_parking';

/** Every migration of comments, by timestamped name; migrateLatest applies them in name order. */
export const migrations: Record<string, Migration> = {
  '20261127100100_create_comments': createComments,
  '20261127100200_create_outbox': createOutbox,
  '20261127100300_create_processed_events': createProcessedEvents,
  '20261127100400_create_deleted_posts': createDeletedPosts,
  '20261206100500_add_outbox_parking': addOutboxParking,
};
