import type { EventEnvelope } from '@mpb/contracts';
import { EventProducer, ensureTopics, type KafkaClient, type KafkaMetrics } from '@mpb/kafka';
import type { Logger } from '@mpb/logger';
import type { EventPublisher } from '../domain/ports';

export interface MetricEventsProducer extends EventPublisher {
  producer: EventProducer;
}

/**
 * Publishes likes and views to the metrics topic, keyed by post id. Concurrent requests share one
 * Kafka round trip (the producer batches what arrives within a couple of milliseconds).
 */
export async function startMetricEventsProducer(o: {
  kafka: KafkaClient;
  topic: string;
  logger: Logger;
  metrics: KafkaMetrics;
}): Promise<MetricEventsProducer> {
  await ensureTopics(o.kafka, [o.topic]);
  const producer = new EventProducer({ kafka: o.kafka, logger: o.logger, metrics: o.metrics });
  await producer.connect();
  return {
    producer,
    publish: (envelope: EventEnvelope<unknown>) => producer.publish(envelope, o.topic),
  };
}
