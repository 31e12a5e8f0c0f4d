import knex, { type Knex } from 'knex';
import { CLIENT_TIMEOUTS } from './clients';

export type { Knex } from 'knex';

export interface Migration {
  up(k: Knex): Promise<void>;
  down(k: Knex): Promise<void>;
}

export interface DbOptions {
  min?: number;
  max?: number;
  applicationName?: string;
  /**
   * PostgreSQL's `statement_timeout` for every connection of the pool, in milliseconds: a statement
   * running longer is cancelled (SQLSTATE 57014). 0 or unset: none (migrations, admin work).
   */
  statementTimeoutMs?: number;
}

export function createDb(url: string, pool: DbOptions = {}): Knex {
  return knex({
    client: 'pg',
    connection: {
      connectionString: url,
      application_name: pool.applicationName ?? 'mpb',
      ...(pool.statementTimeoutMs ? { statement_timeout: pool.statementTimeoutMs } : {}),
    },
    pool: { min: pool.min ?? 0, max: pool.max ?? 10 },
    acquireConnectionTimeout: CLIENT_TIMEOUTS.database.acquireMs,
  });
}

/** SQLSTATE of a statement PostgreSQL cancelled, e.g. past `statement_timeout`. */
export const QUERY_CANCELED = '57014';

/** Advisory-lock id for migrations; each service's database is its own, so one id serves all. */
const MIGRATION_LOCK = 7_300_001;

/**
 * Migrations are TypeScript modules compiled with the service; their names are timestamped and
 * sorted. Replicas (and parallel test workers) starting together take turns on an advisory lock,
 * so the later ones find nothing to do instead of failing on knex's own migration lock.
 * Needs a pool of at least two connections (the lock holds one).
 */
export async function migrateLatest(db: Knex, migrations: Record<string, Migration>): Promise<string[]> {
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
    return runMigrations(db, migrations);
  });
}

async function runMigrations(db: Knex, migrations: Record<string, Migration>): Promise<string[]> {
  const names = Object.keys(migrations).sort();
  const source: Knex.MigrationSource<string> = {
    getMigrations: async () => names,
    getMigrationName: (name) => name,
    getMigration: async (name) => migrations[name] as Migration,
  };
  const [, applied] = (await db.migrate.latest({ migrationSource: source })) as [number, string[]];
  return applied;
}

/** Creates the database named in `url` when it is missing (local runs and tests). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[a-z0-9_]+$/i.test(name)) throw new Error(`unsupported database name: ${name}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const db = createDb(admin.toString(), { max: 1 });
  try {
    const exists = await db.raw('select 1 from pg_database where datname = ?', [name]);
    if (exists.rows.length === 0) {
      await db.raw('create database ??', [name]).catch((err: { code?: string }) => {
        // Created concurrently: 42P04 once it exists, 23505 while the other creation commits.
        if (err.code !== '42P04' && err.code !== '23505') throw err;
      });
    }
  } finally {
    await db.destroy();
  }
}
