export {
  createKafka,
  fetchTopicOffsets,
  parseBrokers,
  DEFAULT_RETRY,
  type KafkaClient,
  type KafkaClusterSettings,
  type KafkaOptions,
  type KafkaRetryOptions,
  type PartitionEnds,
} from './kafka';
export { ensureTopics, type EnsureTopicsOptions } from './topics';
export {
  EventProducer,
  EventTooLargeError,
  ProducerClosedError,
  PublishError,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  isUnsendableError,
  messageBytes,
  envelopeMessage,
  topicOfEnvelope,
  HEADER_EVENT_ID,
  HEADER_EVENT_TYPE,
  HEADER_TRACEPARENT,
  HEADER_TRACESTATE,
  type EnvelopeMessage,
  type EventProducerOptions,
  type ProducerStats,
} from './producer';
export { EventConsumer } from './consumer';
export { PermanentEventError, isPermanentEventError } from './permanent-event-error';
export {
  HEADER_DLT_GROUP,
  HEADER_DLT_VALUE_OMITTED,
  HEADER_DLT_REASON,
  HEADER_ORIGINAL_OFFSET,
  HEADER_ORIGINAL_PARTITION,
  HEADER_ORIGINAL_TOPIC,
} from './dead-letter';
export type {
  BatchContext,
  BatchEventOptions,
  ConsumedEvent,
  ConsumerStatus,
  EventConsumerOptions,
  EventMeta,
  SingleEventOptions,
} from './consumer-options';
export {
  OUTBOX_TABLE,
  OutboxRelay,
  addOutboxParking,
  dropOutboxParking,
  createOutboxTable,
  dropOutboxTable,
  outboxBacklog,
  outboxTestHooks,
  writeOutbox,
  type OutboxBacklog,
  type OutboxRelayOptions,
  type OutboxTableOptions,
  type WriteOutboxOptions,
} from './outbox';
export {
  PROCESSED_EVENTS_TABLE,
  createProcessedEventsTable,
  dropProcessedEventsTable,
  markProcessed,
  pruneProcessedEvents,
  type PruneOptions,
} from './processed-events';
export { LedgerPruner, type LedgerPrunerOptions } from './ledger-pruner';
export { createKafkaMetrics, type KafkaMetrics, type OutboxState } from './metrics';
export { backoffDelay, type BackoffOptions } from './backoff';
export { parseEnvelopeFast } from './envelope';
export {
  startOutboxPipeline,
  type OutboxLimits,
  type OutboxPipeline,
  type OutboxPipelineOptions,
} from './outbox-pipeline';
