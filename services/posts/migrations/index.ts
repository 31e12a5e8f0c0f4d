import type { Migration } from '@mpb/service-kit';
import * as createPosts from './20261127010100_create_posts';
import * as createOutbox from './20261127010200_create_outbox';
import * as addOutboxParking from './20261206010300_add_outbox_parking';

/** Every migration of posts, by timestamped name; migrateLatest applies them in name order. */
export const migrations: Record<string, Migration> = {
  '20261127010100_create_posts': createPosts,
  '20261127010200_create_outbox': createOutbox,
  '20261206010300_add_outbox_parking': addOutboxParking,
};
