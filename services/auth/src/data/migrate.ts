import type { Knex } from 'knex';
import { migrateLatest, type Migration } from '@mpb/service-kit';
import { AdvisoryLocks } from './pg-errors';

/**
 * Replicas (and parallel test workers) may start together: the advisory lock makes them take
 * turns, so the later ones find nothing to do instead of failing on knex's migration lock.
 */
export function migrateWithLock(knex: Knex, migrations: Record<string, Migration>): Promise<string[]> {
  return knex.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [AdvisoryLocks.migrations]);
    return migrateLatest(knex, migrations);
  });
}
