import type { Knex } from 'knex';
import type { EventEnvelope } from '@mpb/contracts';
import { Registry } from 'prom-client';
import {
  createKafkaMetrics,
  createOutboxTable,
  createProcessedEventsTable,
  dropOutboxTable,
  ensureTopics,
  EventConsumer,
  EventProducer,
  markProcessed,
  OutboxRelay,
  addOutboxParking,
  writeOutbox,
  type OutboxRelayOptions,
} from '../src';
import {
  captureLogger,
  countMessages,
  distinctEvents,
  postEvent,
  readMessages,
  testDatabase,
  testKafka,
  unique,
  uniqueIdent,
  waitFor,
} from './helpers';

describe('transactional outbox', () => {
  const { logger } = captureLogger();
  const kafka = testKafka(logger);
  const producer = new EventProducer({ kafka, logger });
  let db: Knex;
  const tables: string[] = [];
  const relays: OutboxRelay[] = [];
  const consumers: EventConsumer[] = [];

  beforeAll(async () => {
    db = await testDatabase();
    await createProcessedEventsTable(db);
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(relays.map((r) => r.stop()));
    await Promise.all(consumers.map((c) => c.stop()));
    await producer.disconnect();
    for (const table of tables) await dropOutboxTable(db, { table });
    await db?.destroy();
  });

  const setup = async (name: string, partitions = 3) => {
    const table = uniqueIdent('outbox');
    tables.push(table);
    await createOutboxTable(db, { table });
    await createOutboxTable(db, { table }); // a migration may run twice
    await addOutboxParking(db, { table });
    await addOutboxParking(db, { table });
    const topic = unique(name);
    await ensureTopics(kafka, [topic], { partitions });
    return { table, topic };
  };

  const relayOf = (table: string, options: Partial<OutboxRelayOptions> = {}): OutboxRelay => {
    const relay = new OutboxRelay({ knex: db, producer, logger, table, pollIntervalMs: 20, ...options });
    relays.push(relay);
    return relay;
  };

  const seqOf = (value: string | null): number =>
    (JSON.parse(value!) as EventEnvelope<{ seq: number }>).payload.seq;

  it('publishes committed rows exactly once, in the order written, and never rows of a rolled-back transaction', async () => {
    const { table, topic } = await setup('outbox-commit');
    const committed = Array.from({ length: 20 }, (_, i) => postEvent('post-1', i));
    const rolledBack = postEvent('post-1', 999);
    await db.transaction((trx) => writeOutbox(trx, committed, { table, topic }));
    await expect(
      db.transaction(async (trx) => {
        await writeOutbox(trx, rolledBack, { table, topic });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');

    const relay = relayOf(table);
    relay.start();
    await waitFor(async () => (await relay.backlog()).count === 0, 15000, 'empty backlog');
    await relay.stop();

    const rows: Array<{ id: string; published_at: Date | null }> = await db(table).select(
      'id',
      'published_at',
    );
    expect(rows.map((r) => r.id).sort()).toEqual(committed.map((e) => e.id).sort());
    expect(rows.every((r) => r.published_at instanceof Date)).toBe(true);
    expect(await distinctEvents(kafka, topic)).toBe(20);
    const read = await readMessages(kafka, topic, 20);
    // Written in one transaction (one created_at), still published in the order written.
    expect(read.map((m) => seqOf(m.value))).toEqual(committed.map((_, i) => i));
    expect(read.every((m) => m.key === 'post-1')).toBe(true);
  });

  it('publishes again after a crash between publish and mark, and markProcessed applies the effect once', async () => {
    const { table, topic } = await setup('outbox-crash');
    const effects = uniqueIdent('effects');
    tables.push(effects);
    await db.schema.createTable(effects, (t) => {
      t.text('post_id').primary();
      t.integer('views').notNullable();
    });
    const events = [1, 2, 3].map((i) => postEvent('post-9', i, 'post.viewed'));
    await db.transaction((trx) => writeOutbox(trx, events, { table, topic }));

    let crashed = false;
    const crashing = {
      publish: async (
        envelopes: EventEnvelope<unknown> | EventEnvelope<unknown>[],
        topicOverride?: string,
      ) => {
        await producer.publish(envelopes, topicOverride);
        if (!crashed) {
          crashed = true;
          throw new Error('relay died before marking the rows');
        }
      },
    };
    const relay = relayOf(table, { producer: crashing, retry: { initialMs: 50, maxMs: 100 } });
    relay.start();
    await waitFor(async () => (await relay.backlog()).count === 0, 15000, 'empty backlog');
    expect(crashed).toBe(true);
    // Every event twice (or more: the producer delivers at least once).
    expect(await countMessages(kafka, topic)).toBeGreaterThanOrEqual(6);
    expect(await distinctEvents(kafka, topic)).toBe(3);

    const consumerName = unique('views-consumer');
    let handled = 0;
    const consumer = new EventConsumer({
      kafka,
      logger,
      groupId: unique('group'),
      topics: [topic],
      handle: async (envelope) => {
        await db.transaction(async (trx) => {
          if (!(await markProcessed(trx, consumerName, envelope.id))) return;
          await trx(effects)
            .insert({ post_id: envelope.aggregate_id, views: 1 })
            .onConflict('post_id')
            .merge({ views: trx.raw('?? + 1', [`${effects}.views`]) });
        });
        handled += 1;
      },
      onFatal: (err) => {
        throw err;
      },
    });
    consumers.push(consumer);
    await consumer.start();
    await waitFor(() => handled === 6, 15000, 'six deliveries');
    expect(await db(effects).select('post_id', 'views')).toEqual([{ post_id: 'post-9', views: 3 }]);
    const marks = await db('processed_events')
      .where({ consumer: consumerName })
      .count<{ count: string }[]>('* as count');
    expect(Number(marks[0]!.count)).toBe(3);
  });

  it('keeps rows while publishing fails, logs once per outage, and publishes them when Kafka is back', async () => {
    const { table, topic } = await setup('outbox-outage');
    const captured = captureLogger('relay');
    const unreachable = new EventProducer({
      kafka: testKafka(captured.logger, { brokers: ['127.0.0.1:9'] }),
    });
    let current = unreachable;
    const switching = { publish: (e: EventEnvelope | EventEnvelope[], t?: string) => current.publish(e, t) };
    const events = [1, 2, 3, 4].map((i) => postEvent(`post-${i}`, i));
    await db.transaction((trx) => writeOutbox(trx, events, { table, topic }));
    const relay = relayOf(table, {
      producer: switching,
      logger: captured.logger,
      retry: { initialMs: 20, maxMs: 50 },
    });
    relay.start();
    const failedRounds = () => captured.lines.filter((l) => l.msg === 'outbox relay retry failed').length;
    await waitFor(() => failedRounds() >= 5, 10000, 'failing rounds');
    expect(relay.isFailing()).toBe(true);
    expect((await relay.backlog()).count).toBe(4);

    current = producer;
    await waitFor(async () => (await relay.backlog()).count === 0, 15000, 'empty backlog');
    expect(relay.isFailing()).toBe(false);
    const errors = captured.lines.filter(
      (l) => l.msg === 'outbox relay cannot publish; rows are kept and retried',
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]!.level).toBe('error');
    expect(captured.lines.filter((l) => l.msg === 'outbox relay recovered')).toHaveLength(1);
    expect(await distinctEvents(kafka, topic)).toBe(4);
  });

  it('warns, never errors, while rows wait for a producer still making its first connection', async () => {
    const { table, topic } = await setup('outbox-first-connect');
    const captured = captureLogger('relay');
    const starting = new EventProducer({
      kafka: testKafka(captured.logger, { brokers: ['127.0.0.1:9'] }),
    });
    void starting.connectInBackground(undefined, { initialMs: 50, maxMs: 100 });
    await db.transaction((trx) => writeOutbox(trx, [postEvent('post-1', 1)], { table, topic }));
    const relay = relayOf(table, {
      producer: starting,
      logger: captured.logger,
      retry: { initialMs: 20, maxMs: 50 },
    });
    relay.start();
    try {
      const waiting = () =>
        captured.lines.filter(
          (l) => l.msg === 'outbox relay waits for the producer to connect; rows are kept and published then',
        );
      await waitFor(() => waiting().length === 1, 10000, 'the waiting warning');
      await waitFor(
        () => captured.lines.filter((l) => l.msg === 'outbox relay retry failed').length >= 3,
        10000,
        'more rounds',
      );
      expect(waiting()[0]!.level).toBe('warn');
      // kafkajs logs its refused connections itself; the relay adds no error of its own.
      expect(captured.lines.filter((l) => l.level === 'error' && l.component === 'outbox-relay')).toEqual([]);
      expect((await relay.backlog()).count).toBe(1);
    } finally {
      await relay.stop();
      await starting.disconnect();
    }
  });

  it.each([
    { exclusive: true, ordered: true },
    { exclusive: false, ordered: false },
  ])(
    'lets two relays run on one table without publishing a row twice (exclusive: $exclusive)',
    async ({ exclusive, ordered }) => {
      const { table, topic } = await setup('outbox-replicas');
      const written: EventEnvelope[] = [];
      for (let tx = 0; tx < 30; tx += 1) {
        const batch = Array.from({ length: 10 }, (_, i) => postEvent(`post-${i % 5}`, tx * 10 + i));
        written.push(...batch);
        await db.transaction((trx) => writeOutbox(trx, batch, { table, topic }));
      }
      const a = relayOf(table, { batchSize: 25, exclusive });
      const b = relayOf(table, { batchSize: 25, exclusive });
      a.start();
      b.start();
      await waitFor(async () => (await a.backlog()).count === 0, 20000, 'empty backlog');
      await Promise.all([a.stop(), b.stop()]);

      expect(await distinctEvents(kafka, topic)).toBe(300);
      const read = await readMessages(kafka, topic, 300);
      expect(new Set(read.map((m) => JSON.parse(m.value!).id)).size).toBe(300);
      if (ordered) {
        const byKey = new Map<string, number[]>();
        for (const m of read) byKey.set(m.key!, [...(byKey.get(m.key!) ?? []), seqOf(m.value)]);
        for (const seqs of byKey.values()) expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
    },
  );

  it('reports the backlog and deletes published rows past the retention', async () => {
    const { table, topic } = await setup('outbox-backlog');
    const relay = relayOf(table, { retentionMs: 3600 * 1000 });
    expect(await relay.backlog()).toEqual({ count: 0, oldestAgeSeconds: 0, parked: 0 });
    const [old, recent] = [postEvent('p', 1), postEvent('p', 2)];
    await db.transaction((trx) => writeOutbox(trx, [old, recent], { table, topic }));
    await db(table)
      .where({ id: old.id })
      .update({ created_at: db.raw("now() - interval '90 seconds'") });
    const backlog = await relay.backlog();
    expect(backlog.count).toBe(2);
    expect(backlog.oldestAgeSeconds).toBeGreaterThanOrEqual(90);
    expect(backlog.oldestAgeSeconds).toBeLessThan(120);

    expect(await relay.publishOnce()).toBe(2);
    expect(await relay.publishOnce()).toBe(0);
    expect(await relay.backlog()).toEqual({ count: 0, oldestAgeSeconds: 0, parked: 0 });

    await db(table)
      .where({ id: old.id })
      .update({ published_at: db.raw("now() - interval '2 hours'") });
    expect(await relay.deletePublished()).toBe(1);
    expect((await db(table).select('id')).map((r: { id: string }) => r.id)).toEqual([recent.id]);
  });

  it('reports its backlog and the age of the oldest row to Prometheus at every scrape while it runs', async () => {
    const { table, topic } = await setup('outbox-gauges');
    const registry = new Registry();
    const relay = relayOf(table, { metrics: createKafkaMetrics(registry) });
    const gauge = async (name: string) =>
      (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.table === table)?.value;
    // Another relay's lock keeps this one from publishing while the gauges are read.
    const holder = await db.transaction();
    try {
      await holder.raw('select pg_advisory_xact_lock(hashtext(?))', [`mpb-outbox-relay:${table}`]);
      await db.transaction((trx) =>
        writeOutbox(trx, [postEvent('p', 1), postEvent('p', 2)], { table, topic }),
      );
      await db(table).update({ created_at: db.raw("now() - interval '30 seconds'") });
      expect(await gauge('mpb_outbox_backlog')).toBeUndefined(); // not watched before it starts
      relay.start();
      expect(await gauge('mpb_outbox_backlog')).toBe(2);
      expect(await gauge('mpb_outbox_oldest_age_seconds')).toBeGreaterThanOrEqual(30);
    } finally {
      await holder.rollback();
    }
    await waitFor(async () => (await gauge('mpb_outbox_backlog')) === 0, 10000, 'backlog drained');
    expect(await gauge('mpb_outbox_oldest_age_seconds')).toBe(0);
    await relay.stop();
  });

  it('markProcessed tells a first delivery from a redelivery, per consumer, and rolls back with the effect', async () => {
    const event = postEvent('p', 1);
    const [a, b] = [unique('consumer-a'), unique('consumer-b')];
    expect(await db.transaction((trx) => markProcessed(trx, a, event.id))).toBe(true);
    expect(await db.transaction((trx) => markProcessed(trx, a, event.id))).toBe(false);
    expect(await db.transaction((trx) => markProcessed(trx, b, event.id))).toBe(true);

    const other = postEvent('p', 2);
    await expect(
      db.transaction(async (trx) => {
        await markProcessed(trx, a, other.id);
        throw new Error('effect failed');
      }),
    ).rejects.toThrow('effect failed');
    expect(await db.transaction((trx) => markProcessed(trx, a, other.id))).toBe(true);
  });
});
