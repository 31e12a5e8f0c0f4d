import type { Knex } from 'knex';
import {
  addOutboxParking,
  createOutboxTable,
  dropOutboxTable,
  EventProducer,
  ensureTopics,
  OutboxRelay,
  outboxTestHooks,
  writeOutbox,
} from '../src';
import {
  captureLogger,
  countMessages,
  distinctEvents,
  postEvent,
  testDatabase,
  testKafka,
  unique,
  uniqueIdent,
} from './helpers';

describe('the outbox test hook afterPublish', () => {
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

  afterEach(() => {
    delete outboxTestHooks.afterPublish;
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
    return { table, topic, event };
  };

  it('runs after the events reached Kafka and before they are marked published', async () => {
    const { table, topic, event } = await setup();
    const seen: string[][] = [];
    // A throw stands in for the fault suite's process exit: the round stops where the hook runs.
    outboxTestHooks.afterPublish = (ids) => {
      seen.push(ids);
      throw new Error('stopped after publish');
    };
    const relay = new OutboxRelay({ knex: db, producer, logger, table });
    await expect(relay.publishOnce()).rejects.toThrow('stopped after publish');
    expect(seen).toEqual([[event.id]]);
    expect(await distinctEvents(kafka, topic)).toBe(1);
    expect(await unpublished(table)).toBe(1);

    // Without the hook (a restart): the row is published again, then marked.
    delete outboxTestHooks.afterPublish;
    expect(await new OutboxRelay({ knex: db, producer, logger, table }).publishOnce()).toBe(1);
    // The same event once more (at least: the producer delivers at least once).
    expect(await countMessages(kafka, topic)).toBeGreaterThanOrEqual(2);
    expect(await distinctEvents(kafka, topic)).toBe(1);
    expect(await unpublished(table)).toBe(0);
  });

  it('is never set from the environment: MPB_FAILPOINTS, which once stopped the relay, does nothing', async () => {
    const { table, topic } = await setup();
    const exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${String(code)}`);
    });
    // jest runs with NODE_ENV=test, where the old failpoint was honoured.
    const before = process.env.MPB_FAILPOINTS;
    process.env.MPB_FAILPOINTS = 'outbox.after-publish=exit';
    try {
      const relay = new OutboxRelay({ knex: db, producer, logger, table });
      expect(await relay.publishOnce()).toBe(1);
    } finally {
      if (before === undefined) delete process.env.MPB_FAILPOINTS;
      else process.env.MPB_FAILPOINTS = before;
      exit.mockRestore();
    }
    expect(exit).not.toHaveBeenCalled();
    expect(outboxTestHooks.afterPublish).toBeUndefined();
    expect(await distinctEvents(kafka, topic)).toBe(1);
    expect(await unpublished(table)).toBe(0);
  });
});
