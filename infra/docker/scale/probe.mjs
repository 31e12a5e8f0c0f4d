// Runs inside a container on the HA compose network (infra/docker/test-scale.sh starts it) and answers
// the scale suite's questions about the Kafka cluster over HTTP on port 8080:
//   GET /state → { topics: { <name>: { minInsync, partitions: [{ partition, leader, replicas, isr, high }] } },
//                  groups: { <group>: { members, lag, partitions: { "<topic>/<p>": { committed, lag } } } } }
// Each answer uses a fresh kafkajs admin (fresh metadata: leaders move while brokers die), asks every
// broker in KAFKA_BROKERS, and gives up within a few seconds with a 503 JSON answer.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire('/repo/packages/kafka/package.json');
const { Kafka, logLevel } = require('kafkajs');

const brokers = (process.env.KAFKA_BROKERS ?? 'kafka-1:9092,kafka-2:9092,kafka-3:9092').split(',');
const kafka = new Kafka({
  clientId: 'scale-probe',
  brokers,
  connectionTimeout: 1500,
  requestTimeout: 4000,
  retry: { retries: 1, initialRetryTime: 200 },
  logLevel: logLevel.NOTHING,
});

async function state() {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const names = (await admin.listTopics()).filter((t) => t.startsWith('blog.'));
    const { topics } = await admin.fetchTopicMetadata({ topics: names });
    const configs =
      names.length === 0
        ? { resources: [] }
        : await admin.describeConfigs({
            includeSynonyms: false,
            resources: names.map((name) => ({ type: 2, name, configNames: ['min.insync.replicas'] })),
          });
    const out = { topics: {}, groups: {} };
    const highs = {};
    for (const t of topics) {
      const entry = configs.resources.find((r) => r.resourceName === t.name);
      const minInsync = Number(
        entry?.configEntries.find((c) => c.configName === 'min.insync.replicas')?.configValue,
      );
      const offsets = await admin.fetchTopicOffsets(t.name);
      highs[t.name] = Object.fromEntries(offsets.map((o) => [o.partition, Number(o.high)]));
      out.topics[t.name] = {
        minInsync,
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionId,
            leader: p.leader,
            replicas: p.replicas,
            isr: p.isr,
            high: highs[t.name][p.partitionId],
          }))
          .sort((a, b) => a.partition - b.partition),
      };
    }
    const { groups } = await admin.listGroups();
    const described = await admin.describeGroups(groups.map((g) => g.groupId));
    for (const g of described.groups) {
      const committed = await admin.fetchOffsets({ groupId: g.groupId });
      const partitions = {};
      let lag = 0;
      for (const { topic, partitions: ps } of committed) {
        for (const p of ps) {
          const high = highs[topic]?.[p.partition];
          if (high === undefined) continue;
          const at = Number(p.offset) < 0 ? 0 : Number(p.offset);
          partitions[`${topic}/${p.partition}`] = { committed: at, lag: Math.max(0, high - at) };
          lag += Math.max(0, high - at);
        }
      }
      out.groups[g.groupId] = { state: g.state, members: g.members.length, lag, partitions };
    }
    return out;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

createServer((req, res) => {
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.url !== '/state') return send(404, { error: 'not found' });
  let timer;
  Promise.race([
    state(),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('kafka did not answer within 8 s')), 8000);
    }),
  ])
    .then(
      (s) => send(200, s),
      (err) => send(503, { error: err.message }),
    )
    .finally(() => clearTimeout(timer));
}).listen(8080, '0.0.0.0');
