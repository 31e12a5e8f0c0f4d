#!/usr/bin/env node
// kafkajs (the platform's client, behind packages/kafka) against @platformatic/kafka on the same work:
//   produce  N envelopes of the metrics topic's size (~330 bytes, keyed over 1000 post ids) to a fresh
//            topic, acks=all, batches of 500, one request in flight (as EventProducer sends), with
//            and without the idempotent producer: events/s;
//   consume  the whole topic from the start by a fresh group: events/s (the client alone, no fold);
//   rebalance two consumers of one group in child processes, events flowing; one is SIGKILLed (no
//            LeaveGroup, as a crashed replica): time until the survivor gets a record of a partition
//            the dead one had, with the same session timeout for both clients.
//
//   node bench/kafka-clients.mjs --brokers kafka-1:9092,kafka-2:9092,kafka-3:9092 [--events 20000] [--json]
// On the HA compose platform, from a container on its network (the brokers are not published):
//   docker run --rm --network mpbha_default -v "$PWD:/repo:ro" node:20-bookworm-slim \
//     node /repo/bench/kafka-clients.mjs --brokers kafka-1:9092,kafka-2:9092,kafka-3:9092
// Topics are created with replication factor --rf (3) and min.insync.replicas --min-isr (2).
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// @platformatic/kafka 2.x declares Node >= 22.22 and calls Promise.withResolvers (Node 22); the
// platform runs Node 20, so the benchmark adds that one function where it is missing.
Promise.withResolvers ??= function withResolvers() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const requireFromKafka = createRequire(path.join(ROOT, 'packages/kafka/package.json'));
const kafkajs = requireFromKafka('kafkajs');
const plt = requireFromKafka('@platformatic/kafka');

function options(argv) {
  const o = {
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    events: 20000,
    rf: 3,
    minIsr: 2,
    session: 10000,
    json: false,
  };
  for (let i = 2; i < argv.length; i += 1) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--brokers') o.brokers = value().split(',');
    else if (flag === '--events') o.events = Number(value());
    else if (flag === '--rf') o.rf = Number(value());
    else if (flag === '--min-isr') o.minIsr = Number(value());
    else if (flag === '--session') o.session = Number(value());
    else if (flag === '--json') o.json = true;
    else if (flag === '--child') o.child = value();
    else if (flag === '--topic') o.topic = value();
    else if (flag === '--group') o.group = value();
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}
const o = options(process.argv);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => process.stderr.write(`[kafka-clients] ${a.join(' ')}\n`);
const jsKafka = () =>
  new kafkajs.Kafka({ clientId: 'bench', brokers: o.brokers, logLevel: kafkajs.logLevel.NOTHING });

/** An envelope like the metrics topic carries (post.viewed), keyed by post id. */
function envelope(i) {
  const post = String(1 + (i % 1000));
  const value = JSON.stringify({
    id: randomUUID(),
    type: 'post.viewed',
    version: 1,
    occurred_at: new Date().toISOString(),
    aggregate_id: post,
    producer: 'bench',
    payload: { post_id: Number(post), viewer: `u${i % 200}`, at: Date.now() },
    trace: {
      traceparent: `00-${randomUUID().replaceAll('-', '')}-${randomUUID().slice(0, 16).replace('-', '0')}-01`,
    },
  });
  return { key: post, value, headers: { 'event-type': 'post.viewed', 'event-id': randomUUID() } };
}

async function createTopic(name) {
  const admin = jsKafka().admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: name,
        numPartitions: 3,
        replicationFactor: o.rf,
        configEntries: [{ name: 'min.insync.replicas', value: String(o.minIsr) }],
      },
    ],
  });
  await admin.disconnect();
}

const BATCH = 500;
async function produceKafkajs(topic, messages, idempotent) {
  const producer = jsKafka().producer({
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    idempotent,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const t = performance.now();
  for (let i = 0; i < messages.length; i += BATCH) {
    await producer.sendBatch({
      topicMessages: [{ topic, messages: messages.slice(i, i + BATCH) }],
      acks: -1,
    });
  }
  const ms = performance.now() - t;
  await producer.disconnect();
  return ms;
}
async function producePlatformatic(topic, messages, idempotent) {
  const producer = new plt.Producer({
    clientId: 'bench',
    bootstrapBrokers: o.brokers,
    serializers: plt.stringSerializers,
    acks: plt.ProduceAcks.ALL,
    idempotent,
    maxInflights: 1,
    autocreateTopics: false,
  });
  const t = performance.now();
  for (let i = 0; i < messages.length; i += BATCH) {
    await producer.send({
      messages: messages
        .slice(i, i + BATCH)
        .map((m) => ({ topic, key: m.key, value: m.value, headers: new Map(Object.entries(m.headers)) })),
    });
  }
  const ms = performance.now() - t;
  await producer.close();
  return ms;
}

async function consumeKafkajs(topic, n) {
  const consumer = jsKafka().consumer({ groupId: `bench-${randomUUID()}`, sessionTimeout: o.session });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let t;
  const done = new Promise((resolve) => {
    consumer.run({
      eachBatch: async ({ batch }) => {
        t ??= performance.now();
        seen += batch.messages.length;
        if (seen >= n) resolve();
      },
    });
  });
  await done;
  const ms = performance.now() - t;
  await consumer.disconnect();
  return ms;
}
async function consumePlatformatic(topic, n) {
  const consumer = new plt.Consumer({
    clientId: 'bench',
    groupId: `bench-${randomUUID()}`,
    bootstrapBrokers: o.brokers,
    deserializers: plt.stringDeserializers,
    sessionTimeout: o.session,
    heartbeatInterval: 3000,
  });
  const stream = await consumer.consume({
    topics: [topic],
    mode: plt.MessagesStreamModes.EARLIEST,
    autocommit: true,
  });
  let seen = 0;
  let t;
  for await (const _m of stream) {
    t ??= performance.now();
    if (++seen >= n) break;
  }
  const ms = performance.now() - t;
  await stream.close().catch(() => undefined);
  await consumer.close(true).catch(() => undefined);
  return ms;
}

/** Child: a group member that reports every partition it receives a record of (stdout JSON lines). */
async function child() {
  const report = (partition) => process.send({ partition, at: Date.now() });
  if (o.child === 'kafkajs') {
    const consumer = jsKafka().consumer({
      groupId: o.group,
      sessionTimeout: o.session,
      heartbeatInterval: 1000,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: o.topic, fromBeginning: false });
    consumer.on(consumer.events.GROUP_JOIN, () => process.send({ joined: true }));
    await consumer.run({ eachMessage: async ({ partition }) => report(partition) });
  } else {
    const consumer = new plt.Consumer({
      clientId: 'bench',
      groupId: o.group,
      bootstrapBrokers: o.brokers,
      deserializers: plt.stringDeserializers,
      sessionTimeout: o.session,
      heartbeatInterval: 1000,
    });
    consumer.on('consumer:group:join', () => process.send({ joined: true }));
    const stream = await consumer.consume({
      topics: [o.topic],
      mode: plt.MessagesStreamModes.LATEST,
      autocommit: true,
    });
    process.send({ joined: true });
    for await (const m of stream) report(m.partition);
  }
}

async function rebalance(client, topic) {
  const group = `bench-rebalance-${randomUUID()}`;
  const spawnMember = () => {
    const c = fork(
      fileURLToPath(import.meta.url),
      [
        '--child',
        client,
        '--topic',
        topic,
        '--group',
        group,
        '--brokers',
        o.brokers.join(','),
        '--session',
        String(o.session),
      ],
      { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
    );
    c.parts = new Map();
    c.on('message', (m) => {
      if (m.partition !== undefined) c.parts.set(m.partition, m.at);
    });
    return c;
  };
  const a = spawnMember();
  await sleep(3000);
  const b = spawnMember();
  const producer = jsKafka().producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  let producing = true;
  const feed = (async () => {
    for (let i = 0; producing; i++) {
      await producer.send({
        topic,
        acks: -1,
        messages: [0, 1, 2].map((p) => ({ ...envelope(i), partition: p })),
      });
      await sleep(50);
    }
  })();
  // Both members hold partitions: each has received records lately.
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    const since = Date.now() - 1500;
    if ([...a.parts.values()].some((t) => t > since) && [...b.parts.values()].some((t) => t > since)) break;
    await sleep(200);
  }
  const recent = (c) => [...c.parts].filter(([, t]) => t > Date.now() - 1500).map(([p]) => p);
  const victim = recent(a).length ? a : b;
  const survivor = victim === a ? b : a;
  const orphaned = recent(victim).filter((p) => !recent(survivor).includes(p));
  const killedAt = Date.now();
  victim.kill('SIGKILL');
  let tookMs = -1;
  while (Date.now() - killedAt < 4 * o.session + 30000) {
    if (orphaned.length && orphaned.every((p) => (survivor.parts.get(p) ?? 0) > killedAt)) {
      tookMs = Math.max(...orphaned.map((p) => survivor.parts.get(p))) - killedAt;
      break;
    }
    await sleep(100);
  }
  producing = false;
  await feed;
  await producer.disconnect();
  survivor.kill('SIGKILL');
  return { orphaned, tookMs };
}

async function main() {
  if (o.child) return child();
  const messages = Array.from({ length: o.events }, (_, i) => envelope(i));
  const bytes = Math.round(messages.reduce((n, m) => n + m.value.length, 0) / messages.length);
  const results = {
    brokers: o.brokers.length,
    rf: o.rf,
    minIsr: o.minIsr,
    events: o.events,
    valueBytes: bytes,
    sessionTimeoutMs: o.session,
  };
  for (const [name, produce] of [
    ['kafkajs', produceKafkajs],
    ['platformatic', producePlatformatic],
  ]) {
    for (const idempotent of [false, true]) {
      const topic = `bench.clients.${name}.${idempotent ? 'idem' : 'plain'}.${randomUUID().slice(0, 8)}`;
      await createTopic(topic);
      await produce(topic, messages.slice(0, 1000), idempotent); // warm-up: connections, metadata, JIT
      const ms = await produce(topic, messages, idempotent);
      results[`produce ${name}${idempotent ? ' idempotent' : ''} events/s`] = Math.round(
        (o.events / ms) * 1000,
      );
      log(`produce ${name} idempotent=${idempotent}: ${Math.round((o.events / ms) * 1000)} events/s`);
      if (idempotent) {
        for (const [cname, consume] of [
          ['kafkajs', consumeKafkajs],
          ['platformatic', consumePlatformatic],
        ]) {
          const cms = await consume(topic, o.events + 1000);
          results[`consume ${cname} events/s`] = Math.max(
            results[`consume ${cname} events/s`] ?? 0,
            Math.round(((o.events + 1000) / cms) * 1000),
          );
          log(`consume ${cname} (${name}'s topic): ${Math.round(((o.events + 1000) / cms) * 1000)} events/s`);
        }
      }
    }
  }
  for (const client of ['kafkajs', 'platformatic']) {
    const topic = `bench.clients.rebalance.${client}.${randomUUID().slice(0, 8)}`;
    await createTopic(topic);
    const r = await rebalance(client, topic);
    results[`rebalance ${client}: partitions of the killed member resumed after ms`] = r.tookMs;
    log(`rebalance ${client}: ${JSON.stringify(r)}`);
  }
  console.log(o.json ? JSON.stringify(results) : results);
  process.exit(0);
}

main().catch((err) => {
  log(err.stack ?? err);
  process.exit(1);
});
