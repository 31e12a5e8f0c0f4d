import { createLogger } from '@mpb/logger';
import {
  createDb,
  ensureDatabase,
  openServiceDatabase,
  QUERY_CANCELED,
  runMigrationJob,
  type Knex,
} from '../src';

const base = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const url = `${base}/mpb_kit_startup_test`;
const logger = createLogger({ service: 'kit-test', level: 'silent' });
const table = 'kit_startup_things';
const migrations = {
  '20260101000000_create_kit_startup_things': {
    up: async (k: Knex) => k.schema.createTable(table, (t) => t.increments('id')),
    down: async (k: Knex) => k.schema.dropTable(table),
  },
};

describe('service database start-up (real PostgreSQL)', () => {
  // Each test starts from a database without the migration applied.
  beforeEach(async () => {
    await ensureDatabase(url);
    const admin = createDb(url, { max: 1 });
    try {
      await admin.raw('drop table if exists ??, knex_migrations, knex_migrations_lock', [table]);
    } finally {
      await admin.destroy();
    }
  });

  it('creates the database outside production and migrates when MIGRATE_ON_START is set', async () => {
    const knex = await openServiceDatabase({
      settings: { NODE_ENV: 'test', DATABASE_URL: url, MIGRATE_ON_START: true },
      migrations,
      logger,
    });
    try {
      await expect(knex.schema.hasTable(table)).resolves.toBe(true);
    } finally {
      await knex.destroy();
    }
  });

  it('gives the serving pool the statement timeout and migrates without it', async () => {
    const slow = {
      ...migrations,
      '20260101000001_slow': {
        up: async (k: Knex) => k.raw('select pg_sleep(0.4)'),
        down: async () => undefined,
      },
    };
    const knex = await openServiceDatabase({
      settings: {
        NODE_ENV: 'test',
        DATABASE_URL: url,
        MIGRATE_ON_START: true,
        DATABASE_STATEMENT_TIMEOUT_MS: 150,
      },
      migrations: slow,
      logger,
    });
    try {
      await expect(knex.schema.hasTable(table)).resolves.toBe(true);
      await expect(knex.raw('select pg_sleep(1)')).rejects.toMatchObject({ code: QUERY_CANCELED });
      await expect(knex.raw('select 1 as one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      await knex.destroy();
    }
  });

  it('leaves migrations to the deploy job when MIGRATE_ON_START is off', async () => {
    const knex = await openServiceDatabase({
      settings: { NODE_ENV: 'test', DATABASE_URL: url, MIGRATE_ON_START: false },
      migrations,
      logger,
    });
    try {
      await expect(knex.schema.hasTable(table)).resolves.toBe(false);
      await runMigrationJob(
        'kit-test',
        { NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: url },
        migrations,
      );
      await expect(knex.schema.hasTable(table)).resolves.toBe(true);
    } finally {
      await knex.destroy();
    }
  });
});
