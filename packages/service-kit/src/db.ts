import knex, { type Knex } from 'knex';

export type { Knex } from 'knex';

export interface Migration {
  up(k: Knex): Promise<void>;
  down(k: Knex): Promise<void>;
}

export function createDb(url: string, pool: { min?: number; max?: number } = {}): Knex {
  return knex({
    client: 'pg',
    connection: { connectionString: url, application_name: process.title },
    pool: { min: pool.min ?? 0, max: pool.max ?? 10 },
    acquireConnectionTimeout: 5000,
  });
}

/** Migrations are TypeScript modules compiled with the service; their names are timestamped and sorted. */
export async function migrateLatest(db: Knex, migrations: Record<string, Migration>): Promise<string[]> {
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
        if (err.code !== '42P04') throw err; // created concurrently
      });
    }
  } finally {
    await db.destroy();
  }
}
