import knexFactory, { type Knex } from 'knex';
import { createLogger } from '@mpb/logger';
import * as createSigningKeys from '../migrations/20261127000300_create_signing_keys';
import { loadKeyring } from '../src/data/keyring';
import { SigningKeyRepository } from '../src/data/signing-key-repository';
import { generateSigningKeyPem } from '../src/domain/signing-keys';
import { suffix } from './helpers/factories';
import { prepareDatabase, TEST_DATABASE_URL } from './helpers/harness';

const logger = createLogger({ service: 'auth-test', level: 'silent' });
// A schema of its own, so this test starts from an empty key table without touching other tests.
const schema = `keys_${suffix()}`;
let admin: Knex;
const replicas: Knex[] = [];

const replica = (): Knex => {
  const k = knexFactory({
    client: 'pg',
    connection: TEST_DATABASE_URL,
    searchPath: [schema],
    pool: { min: 0, max: 2 },
  });
  replicas.push(k);
  return k;
};

beforeAll(async () => {
  admin = await prepareDatabase();
  await admin.raw('create schema ??', [schema]);
  await createSigningKeys.up(replica());
});

afterAll(async () => {
  await Promise.all(replicas.map((k) => k.destroy()));
  await admin.raw('drop schema if exists ?? cascade', [schema]);
  await admin.destroy();
});

describe('signing key initialisation', () => {
  it('ends with one key when replicas start together, and every replica signs with it', async () => {
    let generated = 0;
    const generate = () => {
      generated += 1;
      return generateSigningKeyPem();
    };
    const repos = [replica(), replica(), replica()].map((k) => new SigningKeyRepository(k));
    const pems = await Promise.all(repos.map((r) => r.ensureActiveKey(generate)));
    expect(new Set(pems).size).toBe(1);
    expect(generated).toBe(1);
    const rows = await replica()('signing_keys').select('kid');
    expect(rows).toHaveLength(1);

    const keyrings = await Promise.all(repos.map((repository) => loadKeyring({ repository, logger })));
    expect(new Set(keyrings.map((k) => k.signingKey().kid)).size).toBe(1);
    expect(keyrings[0]!.signingKey().kid).toBe(rows[0].kid);
    const published = await keyrings[0]!.publicKeys();
    expect(published.map((k) => k.kid)).toEqual([rows[0].kid]);
    expect(published[0]).not.toHaveProperty('d');
  });

  it('signs with a configured key instead, publishing it beside the stored ones', async () => {
    const repository = new SigningKeyRepository(replica());
    const configuredPem = generateSigningKeyPem();
    const keyring = await loadKeyring({ repository, configuredPem, logger });
    const kids = (await keyring.publicKeys()).map((k) => k.kid);
    expect(kids[0]).toBe(keyring.signingKey().kid);
    expect(kids).toHaveLength(2);
    expect(await replica()('signing_keys').count<{ count: string }[]>('* as count')).toEqual([
      { count: '1' },
    ]);
  });
});
