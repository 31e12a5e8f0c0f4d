import { createLogger, errorFields } from '@mpb/logger';
import { createDb, ensureDatabase, migrateLatest } from '@mpb/service-kit';
import { migrations } from '../migrations';
import { loadCommentsConfigOrExit } from './config';
import { SERVICE_NAME } from './domain/comments-service';

/** `pnpm migrate`: brings comments' database up to date, then exits (for deploy jobs). */
async function migrate(): Promise<void> {
  const config = loadCommentsConfigOrExit(SERVICE_NAME);
  const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
  if (config.NODE_ENV !== 'production') await ensureDatabase(config.DATABASE_URL);
  const knex = createDb(config.DATABASE_URL, { max: 2 });
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

void migrate();
