// A consumer group's lag (the topic's end offsets minus the group's committed ones, over all
// partitions), sampled while a benchmark runs.
import { requireFromMetrics } from './deps.mjs';

/** Samples every `everyMs` until `stop()`; `drain()` then waits for the lag to reach zero. */
export async function lagSampler({ brokers, groupId, topic, everyMs = 250 }) {
  const { Kafka, logLevel } = requireFromMetrics('kafkajs');
  const admin = new Kafka({ clientId: 'bench-lag', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const lag = async () => {
    const [ends, [group]] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const committed = new Map(group.partitions.map((p) => [p.partition, Number(p.offset)]));
    let total = 0;
    for (const p of ends) {
      const done = committed.get(p.partition) ?? -1;
      // -1: nothing committed yet; the group starts at the earliest offset still kept.
      total += Number(p.high) - (done < 0 ? Number(p.low) : done);
    }
    return total;
  };
  const samples = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      samples.push(await lag().catch(() => undefined));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const seen = samples.filter((s) => s !== undefined);
      return { max: Math.max(0, ...seen), samples: seen.length };
    },
    /** Milliseconds until the lag is zero (at most `timeoutMs`), and the lag at the start. */
    async drain(timeoutMs = 60_000) {
      const started = Date.now();
      const first = await lag();
      let now = first;
      while (now > 0 && Date.now() - started < timeoutMs) {
        await new Promise((r) => setTimeout(r, 50));
        now = await lag();
      }
      return { at_end: first, drained_ms: now === 0 ? Date.now() - started : undefined };
    },
    close: () => admin.disconnect(),
  };
}
