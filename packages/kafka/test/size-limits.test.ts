import net from 'node:net';
import type { Knex } from 'knex';
import { Registry } from 'prom-client';
import { createEnvelope, type EventEnvelope } from '@mpb/contracts';
import {
  addOutboxParking,
  createKafka,
  createKafkaMetrics,
  createOutboxTable,
  createProcessedEventsTable,
  dropOutboxTable,
  ensureTopics,
  EventConsumer,
  EventProducer,
  EventTooLargeError,
  HEADER_DLT_REASON,
  HEADER_DLT_VALUE_OMITTED,
  HEADER_ORIGINAL_OFFSET,
  LedgerPruner,
  OutboxRelay,
  ProducerClosedError,
  pruneProcessedEvents,
  writeOutbox,
  type OutboxRelayOptions,
} from '../src';
import {
  BROKERS,
  captureLogger,
  distinctEvents,
  readMessages,
  testDatabase,
  testKafka,
  unique,
  uniqueIdent,
  waitFor,
} from './helpers';

/** A post event whose payload carries `bytes` of CJK text (3 bytes a character in UTF-8). */
const bigEvent = (aggregateId: string, seq: number, bytes: number): EventEnvelope =>
  createEnvelope({
    type: 'post.updated',
    aggregateType: 'post',
    aggregateId,
    payload: { seq, text: '漢'.repeat(Math.ceil(bytes / 3)) },
    source: 'kafka-test',
  }) as EventEnvelope;

const seqOf = (value: string | null): number =>
  (JSON.parse(value!) as { payload: { seq: number } }).payload.seq;

describe('size limits: nothing one event, batch or backlog holds can wedge a relay or a consumer', () => {
  const { logger, lines } = captureLogger();
  const kafka = testKafka(logger);
  const producers: EventProducer[] = [];
  const relays: OutboxRelay[] = [];
  const consumers: EventConsumer[] = [];
  const tables: string[] = [];
  let db: Knex;

  beforeAll(async () => {
    db = await testDatabase();
    await createProcessedEventsTable(db);
  });

  afterAll(async () => {
    await Promise.all(relays.map((r) => r.stop()));
    await Promise.all(consumers.map((c) => c.stop()));
    await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));
    for (const table of tables) await dropOutboxTable(db, { table });
    await db?.destroy();
  });

  const connectedProducer = async (options: Partial<ConstructorParameters<typeof EventProducer>[0]> = {}) => {
    const producer = new EventProducer({ kafka, logger, ...options });
    producers.push(producer);
    await producer.connect();
    return producer;
  };

  /** An outbox table as a service's migrations leave it, and a fresh topic (with broker configs). */
  const setup = async (name: string, topicConfig: Array<{ name: string; value: string }> = []) => {
    const table = uniqueIdent('outbox');
    tables.push(table);
    await createOutboxTable(db, { table });
    await addOutboxParking(db, { table });
    const topic = unique(name);
    if (topicConfig.length > 0) {
      const admin = kafka.raw.admin();
      await admin.connect();
      try {
        await admin.createTopics({
          topics: [{ topic, numPartitions: 1, replicationFactor: -1, configEntries: topicConfig }],
          waitForLeaders: true,
        });
      } finally {
        await admin.disconnect();
      }
    } else {
      await ensureTopics(kafka, [topic], { partitions: 1, deadLetter: false });
    }
    return { table, topic };
  };

  const relayOf = (table: string, producer: EventProducer, options: Partial<OutboxRelayOptions> = {}) => {
    const relay = new OutboxRelay({ knex: db, producer, logger, table, pollIntervalMs: 20, ...options });
    relays.push(relay);
    return relay;
  };

  const parkedRows = (table: string) =>
    db(table).whereNotNull('parked_at').select('id', 'parked_reason', 'published_at') as Promise<
      Array<{ id: string; parked_reason: string; published_at: Date | null }>
    >;

  it('parks an event over the per-event limit with its reason, and the events after it go out in order', async () => {
    const { table, topic } = await setup('limits-oversized');
    const producer = await connectedProducer();
    const registry = new Registry();
    const relay = relayOf(table, producer, { maxEventBytes: 20_000, metrics: createKafkaMetrics(registry) });
    const before = bigEvent('post-1', 0, 100);
    const oversized = bigEvent('post-1', 1, 60_000);
    const after = [2, 3, 4].map((i) => bigEvent('post-1', i, 100));
    await db.transaction((trx) => writeOutbox(trx, [before, oversized, ...after], { table, topic }));

    relay.start();
    await waitFor(async () => (await relay.backlog()).count === 0, 15000, 'backlog drained');

    const parked = await parkedRows(table);
    expect(parked).toEqual([
      {
        id: oversized.id,
        parked_reason: expect.stringMatching(/^event is \d+ bytes, over the limit of 20000$/),
        published_at: null,
      },
    ]);
    expect((await readMessages(kafka, topic, 4)).map((m) => seqOf(m.value))).toEqual([0, 2, 3, 4]);
    expect(await relay.backlog()).toMatchObject({ count: 0, parked: 1 });
    const gauge = (await registry.getSingleMetric('mpb_outbox_parked')!.get()).values;
    expect(gauge.find((v) => v.labels.table === table)?.value).toBe(1);
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'outbox event parked: it can never be sent to Kafka',
        event_id: oversized.id,
        reason: parked[0]!.parked_reason,
      }),
    );
  });

  it('parks an event the broker refuses as too large (MESSAGE_TOO_LARGE) and keeps relaying', async () => {
    // The topic accepts 30 000 bytes a batch; the relay's own limit would let 60 KB through.
    const { table, topic } = await setup('limits-broker-refuses', [
      { name: 'max.message.bytes', value: '30000' },
    ]);
    const producer = await connectedProducer();
    const relay = relayOf(table, producer, { maxEventBytes: 200_000 });
    const events = [
      bigEvent('p', 0, 100),
      bigEvent('p', 1, 60_000),
      bigEvent('p', 2, 100),
      bigEvent('p', 3, 100),
    ];
    await db.transaction((trx) => writeOutbox(trx, events, { table, topic }));

    relay.start();
    await waitFor(async () => (await relay.backlog()).count === 0, 20000, 'backlog drained');

    const parked = await parkedRows(table);
    expect(parked.map((r) => r.id)).toEqual([events[1]!.id]);
    expect(parked[0]!.parked_reason).toMatch(/larger than the max message size/);
    expect((await readMessages(kafka, topic, 3)).map((m) => seqOf(m.value))).toEqual([0, 2, 3]);
  });

  it('sends a backlog larger than 1 MiB in several requests, each under the batch limit, all in order', async () => {
    const { table, topic } = await setup('limits-backlog');
    const producer = await connectedProducer();
    const relay = relayOf(table, producer);
    // 60 edits of 60 KB each: 3.6 MB waiting, the backlog a Kafka outage leaves after long edits.
    const events = Array.from({ length: 60 }, (_, i) => bigEvent(`post-${i % 3}`, i, 60_000));
    await db.transaction((trx) => writeOutbox(trx, events, { table, topic }));

    relay.start();
    await waitFor(async () => (await relay.backlog()).count === 0, 30000, 'backlog drained');

    expect(await parkedRows(table)).toEqual([]);
    // 900 KiB a request holds 15 of these events: at least 4 requests for 3.6 MB.
    expect(producer.stats().batches).toBeGreaterThanOrEqual(4);
    expect(producer.stats().messages).toBe(60);
    expect(await distinctEvents(kafka, topic)).toBe(60);
    const read = await readMessages(kafka, topic, 60, 30000);
    expect(read.map((m) => seqOf(m.value))).toEqual(events.map((_, i) => i));
  });

  it('splits concurrent publish calls into requests under the byte limit, and refuses an oversized event alone', async () => {
    const topic = unique('limits-producer');
    await ensureTopics(kafka, [topic], { partitions: 1, deadLetter: false });
    const producer = await connectedProducer({
      lingerMs: 50,
      maxBatchBytes: 200_000,
      maxMessageBytes: 100_000,
    });
    const small = Array.from({ length: 10 }, (_, i) => bigEvent('p', i, 50_000));
    const results = await Promise.allSettled([
      ...small.map((e) => producer.publish(e, topic)),
      producer.publish(bigEvent('p', 99, 150_000), topic),
    ]);
    expect(results.slice(0, 10).every((r) => r.status === 'fulfilled')).toBe(true);
    const refused = results[10] as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(EventTooLargeError);
    // Three 50 KB messages fit under 200 000 bytes: four requests for ten.
    expect(producer.stats()).toEqual({ batches: 4, messages: 10 });
  });

  it('parks a poison event in the dead-letter topic even when the dead-letter topic refuses its size, and moves on', async () => {
    const topic = unique('limits-dlt');
    const admin = kafka.raw.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          { topic, numPartitions: 1, replicationFactor: -1 },
          {
            topic: `${topic}.dlt`,
            numPartitions: 1,
            replicationFactor: -1,
            configEntries: [{ name: 'max.message.bytes', value: '20000' }],
          },
        ],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
    const producer = await connectedProducer();
    const poison = bigEvent('p', 1, 60_000);
    const good = bigEvent('p', 2, 100);
    await producer.publish([poison, good], topic);

    const handled: number[] = [];
    const consumer = new EventConsumer({
      kafka,
      logger,
      groupId: unique('limits-dlt-group'),
      onFatal: (err) => {
        throw err;
      },
      topics: [topic],
      ensureTopics: false,
      handle: async (envelope) => {
        const seq = (envelope.payload as { seq: number }).seq;
        if (seq === 1) throw new EventTooLargeError('this handler refuses it for good');
        handled.push(seq);
      },
    });
    consumers.push(consumer);
    await consumer.start();
    await waitFor(() => handled.includes(2), 20000, 'the event after the poison');

    const [parked] = await readMessages(kafka, `${topic}.dlt`, 1);
    expect(parked!.value).toBeNull();
    expect(parked!.headers).toMatchObject({
      [HEADER_DLT_REASON]: expect.stringMatching(/refuses it for good/),
      [HEADER_ORIGINAL_OFFSET]: '0',
      [HEADER_DLT_VALUE_OMITTED]: expect.stringMatching(/bytes refused by Kafka/),
    });
  });

  it('starts a producer and a consumer while Kafka is unreachable and connects both once it answers', async () => {
    // A port nobody listens on yet; a TCP forwarder to the real broker opens on it later.
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(p));
      });
    });
    const late = createKafka({
      clientId: unique('late'),
      brokers: [`127.0.0.1:${port}`],
      logger,
      connectionTimeout: 500,
      retry: { retries: 0 },
    });
    const topic = unique('limits-late');
    const producer = new EventProducer({ kafka: late, logger });
    producers.push(producer);
    const connected = producer.connectInBackground(() => ensureTopics(late, [topic], { partitions: 1 }), {
      initialMs: 100,
      maxMs: 300,
    });
    const seen: string[] = [];
    const consumer = new EventConsumer({
      kafka: late,
      logger,
      groupId: unique('late-group'),
      onFatal: (err) => {
        throw err;
      },
      topics: [topic],
      handle: async (e) => {
        seen.push(e.id);
      },
    });
    consumers.push(consumer);
    consumer.startInBackground({ initialMs: 100, maxMs: 300 });

    await new Promise((r) => setTimeout(r, 1000));
    expect(producer.isConnected()).toBe(false);
    expect(consumer.status().running).toBe(false);
    await expect(producer.publish(bigEvent('p', 1, 10), topic)).rejects.toBeInstanceOf(ProducerClosedError);

    const [host, brokerPort] = BROKERS[0]!.split(':');
    const forwarder = net.createServer((client) => {
      const upstream = net.connect(Number(brokerPort), host, () => client.pipe(upstream).pipe(client));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => forwarder.listen(port, '127.0.0.1', resolve));
    try {
      await connected;
      expect(producer.isConnected()).toBe(true);
      await waitFor(() => consumer.status().running, 20000, 'consumer started');
      const event = bigEvent('p', 2, 10);
      await producer.publish(event, topic);
      await waitFor(() => seen.includes(event.id), 20000, 'event consumed');
      await consumer.stop();
      await producer.disconnect();
    } finally {
      await new Promise((r) => forwarder.close(r));
    }
  });

  it('prunes processed-event ids past the retention in bounded statements, keeping the recent ones', async () => {
    const consumer = unique('prune');
    const ids = Array.from(
      { length: 25 },
      () =>
        createEnvelope({
          type: 'post.viewed',
          aggregateType: 'post',
          aggregateId: 1,
          payload: {},
          source: 't',
        }).id,
    );
    await db('processed_events').insert(ids.map((event_id) => ({ consumer, event_id })));
    await db('processed_events')
      .where({ consumer })
      .whereIn('event_id', ids.slice(0, 23))
      .update({ processed_at: db.raw("now() - interval '9 days'") });

    // 10 a statement, at most 2 statements: 20 of the 23 expired rows go, the rest at the next call.
    expect(
      await pruneProcessedEvents(db, 8 * 24 * 3600 * 1000, { batch: 10, maxBatches: 2 }),
    ).toBeGreaterThanOrEqual(20);
    const pruner = new LedgerPruner({
      logger,
      tasks: { processed_events: () => pruneProcessedEvents(db, 8 * 24 * 3600 * 1000, { batch: 10 }) },
    });
    await pruner.runOnce();
    const left = (await db('processed_events').where({ consumer }).select('event_id')) as Array<{
      event_id: string;
    }>;
    expect(left.map((r) => r.event_id).sort()).toEqual(ids.slice(23).sort());
  });
});
