import { Counter, type Registry } from 'prom-client';

/** Prometheus counters of this package; create once per registry and hand to producers, consumers and relays. */
export interface KafkaMetrics {
  producedMessages: Counter<'topic'>;
  produceBatches: Counter<'result'>;
  consumedMessages: Counter<'topic' | 'group' | 'outcome'>;
  consumerRetries: Counter<'topic' | 'group'>;
  outboxPublished: Counter<string>;
  outboxFailures: Counter<string>;
}

export function createKafkaMetrics(registry: Registry, prefix = 'mpb_'): KafkaMetrics {
  const registers = [registry];
  return {
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
