import type { Admin } from 'kafkajs';
import { deadLetterTopicOf } from '@mpb/contracts';
import { isRetriable, type KafkaClient } from './kafka';

/** How long the wait for a new topic's partition leaders may take, in attempts and the first pause. */
const LEADER_WAIT_ATTEMPTS = 12;
const LEADER_WAIT_MS = 50;

export interface EnsureTopicsOptions {
  partitions?: number;
  /** -1 lets the broker use its default replication factor. Default: the client's `cluster.replicationFactor`, else -1. */
  replicationFactor?: number;
  /** `min.insync.replicas` of each created topic; 0: the broker's default. Default: the client's `cluster.minInsyncReplicas`. */
  minInsyncReplicas?: number;
  /** Also create each topic's dead-letter twin (`<topic>.dlt`). Default true. */
  deadLetter?: boolean;
}

const isAlreadyExists = (err: unknown): boolean => {
  const e = err as { type?: string; errors?: Array<{ type?: string }> } | null;
  if (!e) return false;
  if (e.type === 'TOPIC_ALREADY_EXISTS') return true;
  return (
    Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((x) => x.type === 'TOPIC_ALREADY_EXISTS')
  );
};

/**
 * Creates the topics (and their dead-letter twins) that do not exist yet. Safe to run from every
 * replica at start-up: a topic another process created in the meantime is not an error.
 * Topics are named as services know them; the client's prefix is put before each. Their replication
 * factor and `min.insync.replicas` come from the client's cluster settings unless given. Returns the
 * (prefixed) topics that were missing when it looked.
 */
export async function ensureTopics(
  kafka: KafkaClient,
  topics: string[],
  options: EnsureTopicsOptions = {},
): Promise<string[]> {
  const { partitions = 3, deadLetter = true } = options;
  const replicationFactor = options.replicationFactor ?? kafka.cluster?.replicationFactor ?? -1;
  const minInsync = options.minInsyncReplicas ?? kafka.cluster?.minInsyncReplicas ?? 0;
  const configEntries = minInsync > 0 ? [{ name: 'min.insync.replicas', value: String(minInsync) }] : [];
  const named = topics.map((t) => kafka.topic(t));
  const wanted = [...new Set(named.flatMap((t) => (deadLetter ? [t, deadLetterTopicOf(t)] : [t])))];
  if (wanted.length === 0) return [];
  const admin = kafka.raw.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      try {
        await admin.createTopics({
          topics: missing.map((topic) => ({
            topic,
            numPartitions: partitions,
            replicationFactor,
            configEntries,
          })),
          waitForLeaders: true,
        });
      } catch (err) {
        // A retriable answer while kafkajs waits for leaders ("does not host this topic-partition" on a
        // busy broker) comes after the creation: the wait below finishes the job.
        if (!isAlreadyExists(err) && !isRetriable(err)) throw err;
      }
      // When another process won the race kafkajs skips waiting for leaders; metadata waits for them.
      await leadersKnown(admin, missing);
    }
    return missing;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Resolves once the broker answers metadata for every topic with their leaders. A broker that has
 * just created a topic can answer "does not host this topic-partition" or "leader not available" for
 * a moment (longer on a busy machine): those retriable answers are asked again, with a growing pause
 * (about 4 s in all); anything else, or the last failure, is thrown.
 */
async function leadersKnown(admin: Admin, topics: string[]): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await admin.fetchTopicMetadata({ topics });
      return;
    } catch (err) {
      if (attempt >= LEADER_WAIT_ATTEMPTS || !isRetriable(err)) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(LEADER_WAIT_MS * attempt, 500)));
  }
}
