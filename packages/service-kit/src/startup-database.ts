import type { Knex } from 'knex';
import { createLogger, errorFields, type Logger } from '@mpb/logger';
import { createDb, ensureDatabase, migrateLatest, type Migration } from './db';

/** The configuration keys every service with a database has. */
export interface DatabaseSettings {
  NODE_ENV: string;
  LOG_LEVEL: string;
  DATABASE_URL: string;
}

export interface ServiceDatabaseOptions {
  settings: Pick<DatabaseSettings, 'NODE_ENV' | 'DATABASE_URL'> & {
    MIGRATE_ON_START: boolean;
    /** The pool's statement timeout (see `statementTimeoutKey`); unset: none. */
    DATABASE_STATEMENT_TIMEOUT_MS?: number;
  };
  migrations: Record<string, Migration>;
  logger: Logger;
  pool?: Parameters<typeof createDb>[1];
}

/**
 * For a composition root: the service's database, created when missing outside production (local
 * runs) and migrated when MIGRATE_ON_START says so. The pool serving requests has the configured
 * statement timeout; migrations run on a pool of their own without it (a migration may take long).
 */
export async function openServiceDatabase(o: ServiceDatabaseOptions): Promise<Knex> {
  if (o.settings.NODE_ENV !== 'production') await ensureDatabase(o.settings.DATABASE_URL);
  if (o.settings.MIGRATE_ON_START) {
    const migrator = createDb(o.settings.DATABASE_URL, { max: 2, applicationName: o.pool?.applicationName });
    try {
      const applied = await migrateLatest(migrator, o.migrations);
      o.logger.info({ applied }, 'migrations up to date');
    } finally {
      await migrator.destroy();
    }
  }
  return createDb(o.settings.DATABASE_URL, {
    statementTimeoutMs: o.settings.DATABASE_STATEMENT_TIMEOUT_MS,
    ...o.pool,
  });
}

/** `pnpm migrate`: brings the service's database up to date, then exits (for deploy jobs). */
export async function runMigrationJob(
  service: string,
  settings: DatabaseSettings,
  migrations: Record<string, Migration>,
): Promise<void> {
  const logger = createLogger({ service, level: settings.LOG_LEVEL });
  if (settings.NODE_ENV !== 'production') await ensureDatabase(settings.DATABASE_URL);
  const knex = createDb(settings.DATABASE_URL, { max: 2 });
  try {
    const applied = await migrateLatest(knex, migrations);
    logger.info({ applied }, 'migrations up to date');
  } catch (err) {
    logger.fatal(errorFields(err, true), 'migration failed');
    process.exitCode = 1;
  } finally {
    await knex.destroy();
  }
}
