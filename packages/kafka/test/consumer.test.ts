import { deadLetterTopicOf, InvalidEventError, type EventEnvelope } from '@mpb/contracts';
import { Partitioners, type Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { activeTraceIds, initTracing, InMemorySpanExporter } from '@mpb/telemetry';
import {
  createKafkaMetrics,
  ensureTopics,
  EventConsumer,
  EventProducer,
  PermanentEventError,
  type ConsumedEvent,
  type EventConsumerOptions,
  type BatchContext,
} from '../src';
import {
  captureLogger,
  committedOffsets,
  postEvent,
  readMessages,
  testKafka,
  unique,
  waitFor,
} from './helpers';

type ConsumerOverrides =
  | Omit<Extract<EventConsumerOptions, { handle: unknown }>, 'kafka' | 'logger' | 'topics' | 'groupId' | 'onFatal'>
  | Omit<Extract<EventConsumerOptions, { handleBatch: unknown }>, 'kafka' | 'logger' | 'topics' | 'groupId' | 'onFatal'>;

describe('EventConsumer', () => {
  const { logger, lines } = captureLogger();
  const kafka = testKafka(logger);
  const producer = new EventProducer({ kafka, logger });
  let raw: Producer;
  const consumers: EventConsumer[] = [];
  const fatal: Error[] = [];

  beforeAll(async () => {
    raw = kafka.raw.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await Promise.all([producer.connect(), raw.connect()]);
  });

  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    await Promise.all([producer.disconnect(), raw.disconnect()]);
    expect(fatal).toEqual([]);
  });

  const newTopic = async (name: string): Promise<string> => {
    const topic = unique(name);
    await ensureTopics(kafka, [topic], { partitions: 1 });
    return topic;
  };

  const consumerOf = (
    topic: string,
    options: ConsumerOverrides,
    groupId = unique('group'),
  ): EventConsumer => {
    const consumer = new EventConsumer({
      kafka,
      logger,
      topics: [topic],
      groupId,
      fromBeginning: true,
      retry: { initialMs: 100, maxMs: 400 },
      onFatal: (err) => fatal.push(err),
      ...options,
    } as EventConsumerOptions);
    consumers.push(consumer);
    return consumer;
  };

  it('parks a malformed message in the dead-letter topic with the reason and processes the next one', async () => {
    const topic = await newTopic('consumer-dlt');
    const good1 = postEvent('p1', 1);
    const good2 = postEvent('p1', 2);
    await producer.publish(good1, topic);
    await raw.send({ topic, messages: [{ key: 'p1', value: 'not json', headers: { origin: 'test' } }] });
    await raw.send({ topic, messages: [{ key: 'p1', value: JSON.stringify({ ...good1, id: 'nope' }) }] });
    await producer.publish(good2, topic);

    const handled: string[] = [];
    const consumer = consumerOf(topic, {
      handle: async (envelope: EventEnvelope) => {
        handled.push(envelope.id);
      },
    });
    await consumer.start();
    await waitFor(() => handled.length === 2, 15000, 'both good events');
    expect(handled).toEqual([good1.id, good2.id]);

    const parked = await readMessages(kafka, deadLetterTopicOf(topic), 2);
    expect(parked.map((m) => m.value)).toEqual(['not json', JSON.stringify({ ...good1, id: 'nope' })]);
    expect(parked[0]!.key).toBe('p1');
    expect(parked[0]!.headers).toMatchObject({
      'x-dlt-reason': 'invalid event: not JSON',
      'x-original-topic': topic,
      'x-original-partition': '0',
      'x-original-offset': '1',
      'x-dlt-consumer-group': consumer.groupId,
      origin: 'test',
    });
    expect(parked[1]!.headers['x-dlt-reason']).toMatch(/^invalid event: "id" must be a valid GUID/);
    expect(parked[1]!.headers['x-original-offset']).toBe('2');
    expect(
      lines.filter((l) => l.msg === 'event parked in the dead-letter topic' && l.topic === topic),
    ).toHaveLength(2);
    expect(
      lines.find((l) => l.msg === 'event parked in the dead-letter topic' && l.topic === topic)?.level,
    ).toBe('warn');
    await waitFor(
      async () => (await committedOffsets(kafka, consumer.groupId, topic)).get(0) === 4,
      10000,
      'commit',
    );
  });

  it('parks events whose handler fails permanently (PermanentEventError or an invalid payload) and carries on', async () => {
    const topic = await newTopic('consumer-permanent');
    const [missingPost, badPayload, fine] = [postEvent('p', 1), postEvent('p', 2), postEvent('p', 3)];
    await producer.publish([missingPost, badPayload, fine], topic);
    const applied: string[] = [];
    const consumer = consumerOf(topic, {
      handle: async (envelope: EventEnvelope) => {
        if (envelope.id === missingPost.id) throw new PermanentEventError('post p does not exist');
        // What a contracts payload reader throws when a payload lacks a field the handler needs.
        if (envelope.id === badPayload.id)
          throw new InvalidEventError('post.updated payload: "title" is required');
        applied.push(envelope.id);
      },
    });
    await consumer.start();
    await waitFor(() => applied.length === 1, 15000, 'the good event');
    expect(applied).toEqual([fine.id]);
    const parked = await readMessages(kafka, deadLetterTopicOf(topic), 2);
    expect(parked.map((m) => m.headers['x-dlt-reason'])).toEqual([
      'PermanentEventError: post p does not exist',
      expect.stringMatching(/^invalid event: post.updated payload: "title" is required/),
    ]);
    expect(parked.map((m) => m.headers['event-id'])).toEqual([missingPost.id, badPayload.id]);
  });

  it('retries a transient failure on the same message without advancing the offset, then processes it once', async () => {
    const topic = await newTopic('consumer-transient');
    const [a, b] = [postEvent('p', 1), postEvent('p', 2)];
    await producer.publish([a, b], topic);
    const groupId = unique('group');
    let attemptsOnA = 0;
    let committedWhileFailing: Map<number, number> | undefined;
    const applied: string[] = [];
    const consumer = consumerOf(
      topic,
      {
        handle: async (envelope: EventEnvelope) => {
          if (envelope.id === a.id) {
            attemptsOnA += 1;
            if (attemptsOnA === 2) committedWhileFailing = await committedOffsets(kafka, groupId, topic);
            if (attemptsOnA <= 2) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
          }
          applied.push(envelope.id);
        },
      },
      groupId,
    );
    await consumer.start();
    await waitFor(() => applied.length === 2, 15000, 'both events');
    expect(applied).toEqual([a.id, b.id]);
    expect(attemptsOnA).toBe(3);
    // Nothing committed for the partition (-1) while a, at offset 0, kept failing.
    expect(committedWhileFailing?.get(0) ?? -1).toBe(-1);
    await waitFor(async () => (await committedOffsets(kafka, groupId, topic)).get(0) === 2, 10000, 'commit');
    const warned = lines.filter(
      (l) => l.msg === 'transient failure; retrying the same message' && l.topic === topic,
    );
    // Logged on the first attempt and every tenth, not on each retry.
    expect(warned.map((l) => l.attempt)).toEqual([1]);
  });

  it('stops promptly during a retry without committing, and the next member of the group gets the message again', async () => {
    const topic = await newTopic('consumer-stop');
    const [a, b] = [postEvent('p', 1), postEvent('p', 2)];
    await producer.publish([a, b], topic);
    const groupId = unique('group');
    let attempts = 0;
    const first = consumerOf(
      topic,
      {
        retry: { initialMs: 5000, maxMs: 5000 },
        handle: async () => {
          attempts += 1;
          throw new Error('database unavailable');
        },
      },
      groupId,
    );
    await first.start();
    await waitFor(() => attempts >= 1, 15000, 'first attempt');
    const stopping = Date.now();
    await first.stop();
    expect(Date.now() - stopping).toBeLessThan(3000);
    expect(first.status().running).toBe(false);
    expect((await committedOffsets(kafka, groupId, topic)).get(0) ?? -1).toBe(-1);

    const applied: string[] = [];
    const second = consumerOf(
      topic,
      { handle: async (e: EventEnvelope) => void applied.push(e.id) },
      groupId,
    );
    await second.start();
    await waitFor(() => applied.length === 2, 15000, 'redelivery');
    expect(applied).toEqual([a.id, b.id]);
  });

  it('hands whole batches to handleBatch, parks invalid messages first and retries a failed batch as a whole', async () => {
    const topic = await newTopic('consumer-batch');
    const [e1, e2, e3] = [postEvent('p', 1), postEvent('q', 2), postEvent('p', 3)];
    await producer.publish([e1, e2], topic);
    await raw.send({ topic, messages: [{ key: 'p', value: '{}' }] });
    await producer.publish(e3, topic);

    const calls: Array<{ ids: string[]; ctx: Omit<BatchContext, 'heartbeat'> }> = [];
    const applied: string[] = [];
    const consumer = consumerOf(topic, {
      handleBatch: async (events: ConsumedEvent[], { heartbeat, ...ctx }: BatchContext) => {
        await heartbeat();
        calls.push({ ids: events.map((e) => e.envelope.id), ctx });
        if (calls.length === 1) throw new Error('deadlock detected');
        applied.push(...events.map((e) => e.envelope.id));
      },
    });
    await consumer.start();
    await waitFor(() => applied.length === 3, 15000, 'the batch');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual(calls[1]);
    expect(calls[0]).toEqual({
      ids: [e1.id, e2.id, e3.id],
      ctx: { topic, partition: 0, firstOffset: '0', lastOffset: '3' },
    });
    expect(applied).toEqual([e1.id, e2.id, e3.id]);
    const parked = await readMessages(kafka, deadLetterTopicOf(topic), 1);
    expect(parked[0]!.headers['x-original-offset']).toBe('2');
    await waitFor(
      async () => (await committedOffsets(kafka, consumer.groupId, topic)).get(0) === 4,
      10000,
      'commit',
    );
  });

  it('isolates the event behind a PermanentEventError in batch mode and applies the others', async () => {
    const topic = await newTopic('consumer-batch-permanent');
    const events = [1, 2, 3, 4].map((i) => postEvent('p', i));
    await producer.publish(events, topic);
    const applied: number[] = [];
    const consumer = consumerOf(topic, {
      handleBatch: async (batch: ConsumedEvent[]) => {
        const seqs = batch.map((e) => (e.envelope.payload as { seq: number }).seq);
        if (seqs.includes(3)) throw new PermanentEventError('seq 3 is poison');
        applied.push(...seqs);
      },
    });
    await consumer.start();
    await waitFor(() => applied.length === 3, 15000, 'the good events');
    expect(applied).toEqual([1, 2, 4]);
    const parked = await readMessages(kafka, deadLetterTopicOf(topic), 1);
    expect(parked[0]!.headers).toMatchObject({ 'event-id': events[2]!.id, 'x-original-offset': '2' });
  });

  it('reports status and the lag still to consume', async () => {
    const topic = await newTopic('consumer-lag');
    await producer.publish(
      [1, 2, 3, 4, 5].map((i) => postEvent('p', i)),
      topic,
    );
    const seen: string[] = [];
    const registry = new Registry();
    const consumer = consumerOf(topic, {
      handle: async (e: EventEnvelope) => void seen.push(e.id),
      metrics: createKafkaMetrics(registry),
    });
    const lagGauge = async () =>
      (await registry.getSingleMetric('mpb_kafka_consumer_lag')!.get()).values.find(
        (v) => v.labels.group === consumer.groupId,
      )?.value;
    expect(consumer.status()).toEqual({ running: false, lastProcessedAt: null });
    expect(await lagGauge()).toBeUndefined(); // not watched before it starts
    expect(await consumer.lag()).toBe(5);
    const before = new Date();
    await consumer.start();
    await waitFor(() => seen.length === 5, 15000, 'all events');
    await waitFor(async () => (await consumer.lag()) === 0, 10000, 'lag 0');
    expect(await lagGauge()).toBe(0);
    const status = consumer.status();
    expect(status.running).toBe(true);
    expect(status.lag).toBe(0);
    expect(status.lastProcessedAt!.getTime()).toBeGreaterThanOrEqual(before.getTime());
    await producer.publish(postEvent('p', 6), topic);
    await consumer.stop();
    expect(consumer.status().running).toBe(false);
  });

  it("runs each handler in a span that continues the trace carried by the event's envelope", async () => {
    const exporter = new InMemorySpanExporter();
    initTracing({ service: 'kafka-test', exporter });
    const topic = await newTopic('consumer-trace');
    const traced = {
      ...postEvent('p', 1),
      trace: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    };
    await producer.publish([traced, postEvent('p', 2)], topic);
    const ids: Array<string | undefined> = [];
    const consumer = consumerOf(topic, { handle: async () => void ids.push(activeTraceIds().trace_id) });
    await consumer.start();
    await waitFor(() => ids.length === 2, 15000, 'both events');
    expect(ids[0]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(ids[1]).toMatch(/^[0-9a-f]{32}$/); // no trace in the envelope: a trace of its own
    expect(ids[1]).not.toBe(ids[0]);
    const span = exporter.getFinishedSpans().find((s) => s.spanContext().traceId === ids[0])!;
    expect(span.name).toBe(`consume ${traced.type}`);
    expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  });

  it('refuses options with both or neither handler', () => {
    expect(
      () =>
        new EventConsumer({ kafka, logger, groupId: 'g', topics: ['t'] } as unknown as EventConsumerOptions),
    ).toThrow('exactly one of handle and handleBatch');
  });
});
