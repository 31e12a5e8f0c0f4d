import type { EventEnvelope } from '@mpb/contracts';
import { EventProducer, ensureTopics, type KafkaClient, type KafkaMetrics } from '@mpb/kafka';
import type { Logger } from '@mpb/logger';
import type { EventPublisher } from '../domain/ports';

export interface MetricEventsProducer extends EventPublisher {
  producer: EventProducer;
}

/**
 * Publishes likes and views to the metrics topic, keyed by post id. Concurrent requests share one
 * Kafka round trip (the producer batches what arrives within a couple of milliseconds). Returns at
 * once: the topic is created and the producer connected now, or in the background as soon as Kafka
 * answers; until then a publish fails (ProducerClosedError) like any publish during an outage.
 */
export function startMetricEventsProducer(o: {
  kafka: KafkaClient;
  topic: string;
  logger: Logger;
  metrics: KafkaMetrics;
}): Promise<MetricEventsProducer> {
  const producer = new EventProducer({ kafka: o.kafka, logger: o.logger, metrics: o.metrics });
  void producer.connectInBackground(() => ensureTopics(o.kafka, [o.topic]));
  return Promise.resolve({
    producer,
    publish: (envelope: EventEnvelope<unknown>) => producer.publish(envelope, o.topic),
  });
}
