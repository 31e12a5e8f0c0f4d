import type { Knex } from 'knex';
import { baseTestEnv, prepareTestDatabase, testDatabaseUrl } from '../src';

describe('test database', () => {
  it('prefers the override and otherwise names the database on the local server', () => {
    expect(testDatabaseUrl('mpb_x_test', 'postgres://h/other')).toBe('postgres://h/other');
    expect(testDatabaseUrl('mpb_x_test')).toMatch(/\/mpb_x_test$/);
  });

  it('starts every service from test mode with silent logs and the given database', () => {
    expect(baseTestEnv('postgres://h/db')).toMatchObject({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: 'postgres://h/db',
    });
  });

  it('creates the database and runs the migrations, twice without harm', async () => {
    const url = testDatabaseUrl('mpb_test_kit_test', process.env.TEST_KIT_TEST_DATABASE_URL);
    const migrations = {
      '20261127000100_create_things': {
        up: async (knex: Knex) => {
          await knex.schema.createTable('things', (t) => {
            t.increments('id');
          });
        },
        down: async (knex: Knex) => {
          await knex.schema.dropTable('things');
        },
      },
    };
    for (let i = 0; i < 2; i++) {
      const knex = await prepareTestDatabase(url, migrations);
      try {
        await expect(knex('things').count()).resolves.toBeDefined();
      } finally {
        await knex.destroy();
      }
    }
  });
});
