import type { Migration } from '@mpb/service-kit';
import * as createUsers from './20261127000100_create_users';
import * as createSessions from './20261127000200_create_sessions';
import * as createSigningKeys from './20261127000300_create_signing_keys';
import * as createOutbox from './20261127000400_create_outbox';
import * as createSessionRevocations from './20261206000100_create_session_revocations';
import * as backfillSessionRevocations from './20261206000200_backfill_session_revocations';
import * as addOutboxParking from './20261206000500_add_outbox_parking';

/** Every migration of auth, by timestamped name; migrateLatest applies them in name order. */
export const migrations: Record<string, Migration> = {
  '20261127000100_create_users': createUsers,
  '20261127000200_create_sessions': createSessions,
  '20261127000300_create_signing_keys': createSigningKeys,
  '20261127000400_create_outbox': createOutbox,
  '20261206000100_create_session_revocations': createSessionRevocations,
  '20261206000200_backfill_session_revocations': backfillSessionRevocations,
  '20261206000500_add_outbox_parking': addOutboxParking,
};
