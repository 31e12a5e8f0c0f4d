import { Counter, Gauge, type Registry } from 'prom-client';

/** Prometheus counters of this package; create once per registry and hand to producers, consumers and relays. */
export interface KafkaMetrics {
  producedMessages: Counter<'topic'>;
  produceBatches: Counter<'result'>;
  consumedMessages: Counter<'topic' | 'group' | 'outcome'>;
  consumerRetries: Counter<'topic' | 'group'>;
  outboxPublished: Counter<string>;
  outboxFailures: Counter<string>;
  /** Reports a consumer group's lag at every scrape until the returned function is called. */
  watchLag(group: string, lag: () => Promise<number>): () => void;
  /** Reports an outbox's backlog, the age of its oldest row and its parked rows at every scrape, until unwatched. */
  watchOutbox(table: string, backlog: () => Promise<OutboxState>): () => void;
}

export interface OutboxState {
  count: number;
  oldestAgeSeconds: number;
  parked?: number;
}

/** How long one scrape waits for a lag or backlog query; a slow source keeps its last value. */
const SCRAPE_QUERY_TIMEOUT_MS = 1500;

function withTimeout<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), SCRAPE_QUERY_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function createKafkaMetrics(registry: Registry, prefix = 'mpb_'): KafkaMetrics {
  const registers = [registry];
  const lagSources = new Map<string, () => Promise<number>>();
  const outboxSources = new Map<string, () => Promise<OutboxState>>();
  // One query per outbox serves both gauges of a scrape (each gauge collects on its own).
  let outboxRead: { at: number; done: Promise<Map<string, OutboxState>> } | undefined;
  const readOutboxes = () => {
    if (!outboxRead || Date.now() - outboxRead.at > 500) {
      const done = Promise.all(
        [...outboxSources].map(async ([table, backlog]) => {
          try {
            return [table, await withTimeout(backlog())] as const;
          } catch {
            return undefined; // the database is unreachable: readiness says so; the gauges keep their values
          }
        }),
      ).then((rows) => new Map(rows.filter((r) => r !== undefined)));
      outboxRead = { at: Date.now(), done };
    }
    return outboxRead.done;
  };
  new Gauge({
    name: `${prefix}outbox_backlog`,
    help: 'Outbox rows not yet published to Kafka',
    labelNames: ['table'],
    registers,
    async collect() {
      for (const [table, b] of await readOutboxes()) this.set({ table }, b.count);
    },
  });
  new Gauge({
    name: `${prefix}outbox_oldest_age_seconds`,
    help: 'Age of the oldest unpublished outbox row (0 when none)',
    labelNames: ['table'],
    registers,
    async collect() {
      for (const [table, b] of await readOutboxes()) this.set({ table }, b.oldestAgeSeconds);
    },
  });
  new Gauge({
    name: `${prefix}outbox_parked`,
    help: 'Outbox rows parked because Kafka can never accept them (see parked_reason)',
    labelNames: ['table'],
    registers,
    async collect() {
      for (const [table, b] of await readOutboxes()) this.set({ table }, b.parked ?? 0);
    },
  });
  new Gauge({
    name: `${prefix}kafka_consumer_lag`,
    help: 'Messages on the subscribed topics not yet committed by the consumer group',
    labelNames: ['group'],
    registers,
    async collect() {
      await Promise.all(
        [...lagSources].map(async ([group, lag]) => {
          try {
            this.set({ group }, await withTimeout(lag()));
          } catch {
            // Kafka is unreachable: readiness says so; the gauge keeps its last value
          }
        }),
      );
    },
  });
  return {
    watchLag(group, lag) {
      lagSources.set(group, lag);
      return () => lagSources.delete(group);
    },
    watchOutbox(table, backlog) {
      outboxSources.set(table, backlog);
      outboxRead = undefined;
      return () => {
        outboxSources.delete(table);
        outboxRead = undefined;
      };
    },
    producedMessages: new Counter({
      name: `${prefix}kafka_produced_messages_total`,
      help: 'Messages acknowledged by Kafka',
      labelNames: ['topic'],
      registers,
    }),
    produceBatches: new Counter({
      name: `${prefix}kafka_produce_batches_total`,
      help: 'Batches sent to Kafka, by result',
      labelNames: ['result'],
      registers,
    }),
    consumedMessages: new Counter({
      name: `${prefix}kafka_consumed_messages_total`,
      help: 'Messages consumed, by outcome (processed or dead_lettered)',
      labelNames: ['topic', 'group', 'outcome'],
      registers,
    }),
    consumerRetries: new Counter({
      name: `${prefix}kafka_consumer_retries_total`,
      help: 'Transient handler failures that were retried',
      labelNames: ['topic', 'group'],
      registers,
    }),
    outboxPublished: new Counter({
      name: `${prefix}outbox_published_total`,
      help: 'Outbox rows published to Kafka',
      registers,
    }),
    outboxFailures: new Counter({
      name: `${prefix}outbox_relay_failures_total`,
      help: 'Outbox relay rounds that failed and will be retried',
      registers,
    }),
  };
}
