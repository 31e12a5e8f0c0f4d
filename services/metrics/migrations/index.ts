import type { Migration } from '@mpb/service-kit';
import * as createPostCounters from './20261128000100_create_post_counters';
import * as createPostLikes from './20261128000200_create_post_likes';
import * as createDeletedPosts from './20261128000300_create_deleted_posts';
import * as createAppliedOffsets from './20261128000400_create_applied_offsets';
import * as addPostLikesWasLiked from './20261128000500_add_post_likes_was_liked';

/** Every migration of metrics, by timestamped name; migrateLatest applies them in name order. */
export const migrations: Record<string, Migration> = {
  '20261128000100_create_post_counters': createPostCounters,
  '20261128000200_create_post_likes': createPostLikes,
  '20261128000300_create_deleted_posts': createDeletedPosts,
  '20261128000400_create_applied_offsets': createAppliedOffsets,
  '20261128000500_add_post_likes_was_liked': addPostLikesWasLiked,
};
