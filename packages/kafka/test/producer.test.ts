import { ensureTopics, EventProducer, ProducerClosedError, PublishError } from '../src';
import { captureLogger, distinctEvents, postEvent, readMessages, testKafka, unique } from './helpers';

describe('EventProducer', () => {
  const { logger } = captureLogger();
  const kafka = testKafka(logger);
  const producers: EventProducer[] = [];

  const connectedProducer = async (options: Partial<ConstructorParameters<typeof EventProducer>[0]> = {}) => {
    const producer = new EventProducer({ kafka, logger, ...options });
    producers.push(producer);
    await producer.connect();
    return producer;
  };

  afterAll(async () => {
    await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));
  });

  it('sends concurrent publish calls in few batches, delivering all with their keys and per-key order', async () => {
    const topic = unique('producer-batching');
    await ensureTopics(kafka, [topic]);
    const producer = await connectedProducer();
    expect(producer.isConnected()).toBe(true);

    const posts = Array.from({ length: 10 }, (_, i) => `post-${i}`);
    const events = Array.from({ length: 300 }, (_, i) => postEvent(posts[i % posts.length]!, i));
    await Promise.all(events.map((e) => producer.publish(e, topic)));

    expect(producer.stats()).toEqual({ batches: 1, messages: 300 });
    const read = await readMessages(kafka, topic, 300);
    expect(read).toHaveLength(300);
    expect(await distinctEvents(kafka, topic)).toBe(300);

    const byId = new Map(events.map((e) => [e.id, e]));
    const partitionOfKey = new Map<string, number>();
    const seqsByKey = new Map<string, number[]>();
    for (const m of read) {
      const envelope = JSON.parse(m.value!) as { id: string; aggregate_id: string; payload: { seq: number } };
      const sent = byId.get(envelope.id)!;
      expect(m.key).toBe(sent.aggregate_id);
      expect(m.headers).toMatchObject({
        'event-type': sent.type,
        'event-id': sent.id,
        traceparent: sent.trace.traceparent,
      });
      // One aggregate, one partition.
      expect(partitionOfKey.get(m.key!) ?? m.partition).toBe(m.partition);
      partitionOfKey.set(m.key!, m.partition);
      seqsByKey.set(m.key!, [...(seqsByKey.get(m.key!) ?? []), envelope.payload.seq]);
    }
    for (const seqs of seqsByKey.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(read.map((m) => JSON.parse(m.value!).id)).size).toBe(300);
  });

  it("uses kafkajs's idempotent producer when the cluster settings ask for it, delivering every event once", async () => {
    const idempotentKafka = testKafka(logger, { cluster: { idempotentProducer: true, minInsyncReplicas: 1 } });
    const topic = unique('producer-idempotent');
    await ensureTopics(idempotentKafka, [topic]);
    const producer = new EventProducer({ kafka: idempotentKafka, logger });
    producers.push(producer);
    expect(producer.idempotent).toBe(true);
    expect(new EventProducer({ kafka, logger }).idempotent).toBe(false);
    await producer.connect();
    const events = Array.from({ length: 50 }, (_, i) => postEvent(`post-${i % 5}`, i));
    await Promise.all(events.map((e) => producer.publish(e, topic)));
    expect(await distinctEvents(idempotentKafka, topic)).toBe(50);
    expect(await readMessages(idempotentKafka, topic, 50)).toHaveLength(50);
  });

  it('sends a batch as soon as 500 messages are queued and keeps publish order across batches', async () => {
    const topic = unique('producer-full-batches');
    await ensureTopics(kafka, [topic], { partitions: 1 });
    const producer = await connectedProducer({ lingerMs: 1000 });
    const events = Array.from({ length: 1200 }, (_, i) => postEvent('one-post', i));
    const started = Date.now();
    await Promise.all(events.map((e) => producer.publish(e, topic)));
    // A 1 s linger never elapses: full batches go at once, the rest follows the acked batch.
    expect(Date.now() - started).toBeLessThan(1000);
    expect(producer.stats()).toEqual({ batches: 3, messages: 1200 });
    const read = await readMessages(kafka, topic, 1200);
    expect(read.map((m) => JSON.parse(m.value!).payload.seq)).toEqual(events.map((_, i) => i));
  });

  it('publishes an array in one call, each envelope a message of its own', async () => {
    const topic = unique('producer-array');
    await ensureTopics(kafka, [topic]);
    const producer = await connectedProducer();
    await producer.publish([postEvent('a', 1), postEvent('b', 2), postEvent('a', 3)], topic);
    expect(producer.stats()).toEqual({ batches: 1, messages: 3 });
    expect(await distinctEvents(kafka, topic)).toBe(3);
  });

  it('flushes queued messages on disconnect and refuses publishing afterwards', async () => {
    const topic = unique('producer-disconnect');
    await ensureTopics(kafka, [topic]);
    const producer = await connectedProducer({ lingerMs: 500 });
    const pending = Array.from({ length: 20 }, (_, i) => producer.publish(postEvent('p', i), topic));
    await producer.disconnect();
    await expect(Promise.all(pending)).resolves.toHaveLength(20);
    expect(await distinctEvents(kafka, topic)).toBe(20);
    expect(producer.isConnected()).toBe(false);
    await expect(producer.publish(postEvent('p', 99), topic)).rejects.toBeInstanceOf(ProducerClosedError);
  });

  it('rejects every caller of a failed batch, then serves later calls', async () => {
    const topic = unique('producer-fails');
    await ensureTopics(kafka, [topic]);
    const fastFailing = testKafka(logger, { retry: { retries: 1, initialRetryTime: 50 } });
    const producer = new EventProducer({ kafka: fastFailing, logger });
    producers.push(producer);
    await producer.connect();
    const missing = unique('producer-no-such-topic');
    const results = await Promise.allSettled([
      producer.publish(postEvent('a', 1), missing),
      producer.publish(postEvent('b', 2), topic),
    ]);
    // Both rode in the same batch, which failed as a whole.
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(PublishError);
    await producer.publish(postEvent('b', 3), topic);
    expect(await distinctEvents(kafka, topic)).toBe(1);
  });

  it('rejects an event type without a topic and publishing before connect', async () => {
    const producer = new EventProducer({ kafka, logger });
    await expect(producer.publish(postEvent('x', 1))).rejects.toBeInstanceOf(ProducerClosedError);
    await producer.connect();
    producers.push(producer);
    const odd = { ...postEvent('x', 1), type: 'nothing.known' };
    await expect(producer.publish(odd)).rejects.toThrow('no topic for event type "nothing.known"');
  });
});
