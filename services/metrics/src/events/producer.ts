import type { EventEnvelope } from '@mpb/contracts';
import type { EventProducer } from '@mpb/kafka';
import type { EventPublisher } from '../domain/ports';

export interface MetricEventsProducer extends EventPublisher {
  producer: EventProducer;
}

/**
 * Publishes likes and views to the metrics topic, keyed by post id, through the service's producer
 * (the kit's `producer`, which creates the topic and connects in the background). Concurrent requests
 * share one Kafka round trip (the producer batches what arrives within a couple of milliseconds); until
 * the producer is connected a publish fails (ProducerClosedError) like any publish during an outage.
 */
export function metricEventsPublisher(producer: EventProducer, topic: string): MetricEventsProducer {
  return {
    producer,
    publish: (envelope: EventEnvelope<unknown>) => producer.publish(envelope, topic),
  };
}
