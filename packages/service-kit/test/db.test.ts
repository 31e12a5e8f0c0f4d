import { createDb, ensureDatabase, migrateLatest, type Knex } from '../src';

const base = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const url = `${base}/mpb_kit_test`;

describe('database helpers (real PostgreSQL)', () => {
  let dbs: Knex[] = [];
  afterEach(async () => {
    await Promise.all(dbs.map((d) => d.destroy()));
    dbs = [];
  });

  it('creates a missing database, also when several callers race', async () => {
    await Promise.all([ensureDatabase(url), ensureDatabase(url), ensureDatabase(url)]);
    const db = createDb(url, { max: 2 });
    dbs.push(db);
    await expect(db.raw('select 1 as one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });

  it('runs migrations once when replicas start together', async () => {
    await ensureDatabase(url);
    const table = `kit_migration_${Date.now()}`;
    const migrations = {
      [`20260101000000_${table}`]: {
        up: async (k: Knex) => k.schema.createTable(table, (t) => t.increments('id')),
        down: async (k: Knex) => k.schema.dropTable(table),
      },
    };
    const replicas = [1, 2, 3].map(() => createDb(url, { max: 2 }));
    dbs.push(...replicas);
    const applied = await Promise.all(replicas.map((r) => migrateLatest(r, migrations)));
    expect(applied.flat()).toEqual([`20260101000000_${table}`]);
    await expect(replicas[0]!.schema.hasTable(table)).resolves.toBe(true);
    await replicas[0]!.schema.dropTable(table);
    await replicas[0]!('knex_migrations')
      .where({ name: `20260101000000_${table}` })
      .delete();
  });
});
