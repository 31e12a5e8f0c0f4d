import type { Knex } from 'knex';
import { createDb, ensureDatabase, migrateLatest, type Migration } from '@mpb/service-kit';

/** Addresses come from the environment (CI, infra/local/test.sh); the defaults are the local ones. */
const PG_BASE = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';

/** A service's test database: the override when set, else `name` on the PG_URL server. */
export const testDatabaseUrl = (name: string, override?: string): string => override ?? `${PG_BASE}/${name}`;

/** The environment every service test starts from: test mode, silent logs, the local servers. */
export const baseTestEnv = (databaseUrl: string): Record<string, string> => ({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  DATABASE_URL: databaseUrl,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
});

/** Creates and migrates the test database; parallel workers may race on both. */
export async function prepareTestDatabase(url: string, migrations: Record<string, Migration>): Promise<Knex> {
  await ensureDatabase(url);
  const knex = createDb(url, { max: 5 });
  await migrateLatest(knex, migrations);
  return knex;
}
