import type { Knex } from 'knex';
import {
  addOutboxParking,
  createOutboxTable,
  dropOutboxTable,
  EventProducer,
  ensureTopics,
  writeOutbox,
} from '../src';
import { exitAfterPublishFailpoint, FAILPOINT_EXIT_CODE, OutboxRelay } from '../src/outbox';
import {
  captureLogger,
  countMessages,
  postEvent,
  testDatabase,
  testKafka,
  unique,
  uniqueIdent,
} from './helpers';

describe('outbox failpoint outbox.after-publish=exit', () => {
  const { logger } = captureLogger();
  const kafka = testKafka(logger);
  const producer = new EventProducer({ kafka, logger });
  let db: Knex;
  const tables: string[] = [];

  beforeAll(async () => {
    db = await testDatabase();
    await producer.connect();
  });

  afterAll(async () => {
    await producer.disconnect();
    for (const table of tables) await dropOutboxTable(db, { table });
    await db?.destroy();
  });

  afterEach(() => jest.restoreAllMocks());

  it('is read from MPB_FAILPOINTS outside production only', () => {
    expect(exitAfterPublishFailpoint({ MPB_FAILPOINTS: 'outbox.after-publish=exit' })).toBe(true);
    expect(
      exitAfterPublishFailpoint({
        NODE_ENV: 'test',
        MPB_FAILPOINTS: 'other=exit, outbox.after-publish=exit',
      }),
    ).toBe(true);
    expect(
      exitAfterPublishFailpoint({ NODE_ENV: 'production', MPB_FAILPOINTS: 'outbox.after-publish=exit' }),
    ).toBe(false);
    expect(exitAfterPublishFailpoint({ MPB_FAILPOINTS: 'outbox.after-publish=panic' })).toBe(false);
    expect(exitAfterPublishFailpoint({})).toBe(false);
  });

  const unpublished = async (table: string): Promise<number> =>
    (await db(table).whereNull('published_at').select('id')).length;

  const setup = async () => {
    const table = uniqueIdent('outbox_fp');
    tables.push(table);
    await createOutboxTable(db, { table });
    await addOutboxParking(db, { table });
    const topic = unique('outbox-failpoint');
    await ensureTopics(kafka, [topic], { partitions: 1 });
    const event = postEvent('post-fp', 1, 'post.deleted');
    await db.transaction((trx) => writeOutbox(trx, event, { table, topic }));
    return { table, topic };
  };

  it('exits after the events reached Kafka and before they are marked published', async () => {
    const { table, topic } = await setup();
    // process.exit stands in as a throw, so the test sees where the relay stopped.
    const exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${String(code)}`);
    });
    const relay = new OutboxRelay({
      knex: db,
      producer,
      logger,
      table,
      env: { NODE_ENV: 'test', MPB_FAILPOINTS: 'outbox.after-publish=exit' },
    });
    await expect(relay.publishOnce()).rejects.toThrow(`exit ${FAILPOINT_EXIT_CODE}`);
    expect(exit).toHaveBeenCalledTimes(1);
    expect(await countMessages(kafka, topic)).toBe(1);
    expect(await unpublished(table)).toBe(1);

    // Restarted without the failpoint: the row is published again, then marked.
    const after = new OutboxRelay({ knex: db, producer, logger, table, env: { NODE_ENV: 'test' } });
    expect(await after.publishOnce()).toBe(1);
    expect(await countMessages(kafka, topic)).toBe(2);
    expect(await unpublished(table)).toBe(0);
  });

  it('is ignored when NODE_ENV is production', async () => {
    const { table, topic } = await setup();
    const exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${String(code)}`);
    });
    const relay = new OutboxRelay({
      knex: db,
      producer,
      logger,
      table,
      env: { NODE_ENV: 'production', MPB_FAILPOINTS: 'outbox.after-publish=exit' },
    });
    expect(await relay.publishOnce()).toBe(1);
    expect(exit).not.toHaveBeenCalled();
    expect(await countMessages(kafka, topic)).toBe(1);
  });
});
