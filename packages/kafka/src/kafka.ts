import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '@mpb/logger';

/** Retries of kafkajs requests and connections (same meaning as kafkajs's `retry`). */
export interface KafkaRetryOptions {
  initialRetryTime?: number;
  maxRetryTime?: number;
  retries?: number;
  factor?: number;
  multiplier?: number;
}

export interface KafkaOptions {
  clientId: string;
  brokers: string[];
  logger: Logger;
  /** Milliseconds to open a TCP connection to a broker; kept short so that a missing broker fails fast. */
  connectionTimeout?: number;
  requestTimeout?: number;
  retry?: KafkaRetryOptions;
  /**
   * Put before every topic and consumer group name (`KAFKA_TOPIC_PREFIX`), so several deployments
   * (a developer's platform and the test suite's) can share one cluster without reading each
   * other's events. Empty by default.
   */
  topicPrefix?: string;
}

/**
 * Our handle on a Kafka cluster. kafkajs stays inside this package: the rest of the platform sees only
 * this object, `EventProducer`, `EventConsumer` and `ensureTopics`.
 */
export interface KafkaClient {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly logger: Logger;
  /** @internal The kafkajs client; for this package's own modules only. */
  readonly raw: Kafka;
  /** Resolves when a broker answers a metadata request within `timeoutMs`; for readiness probes. */
  ping(timeoutMs?: number): Promise<void>;
  /**
   * Where each partition of a topic ends now: its first and next offsets (kafkajs's low and high
   * watermarks). `topic` is the cluster's name (see `topic`). Opens and closes its own connection.
   */
  topicEnds(topic: string): Promise<Map<number, { low: bigint; high: bigint }>>;
  /** The cluster's name of a topic (the prefix put before it). */
  topic(name: string): string;
  /** The cluster's name of a consumer group. */
  group(name: string): string;
}

const TOPIC_PREFIX = /^[A-Za-z0-9._-]{0,100}$/;

const PINO_LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Routes kafkajs's own log lines to pino, keeping their structured fields but its `stack`: a stack
 * trace never goes to the logs (the message and the error's fields say what happened).
 */
function pinoLogCreator(logger: Logger) {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, timestamp: _timestamp, logger: _kafkaLogger, stack: _stack, ...extra } = log;
      const method = PINO_LEVEL[level] ?? 'info';
      kafkaLogger[method]({ namespace, ...extra }, String(message));
    };
}

export const DEFAULT_RETRY: KafkaRetryOptions = { initialRetryTime: 250, maxRetryTime: 5000, retries: 5 };

export function createKafka(options: KafkaOptions): KafkaClient {
  const { clientId, brokers, logger } = options;
  if (brokers.length === 0) throw new Error('createKafka: at least one broker is required');
  const prefix = options.topicPrefix ?? '';
  if (!TOPIC_PREFIX.test(prefix)) throw new Error(`createKafka: invalid topic prefix "${prefix}"`);
  const raw = new Kafka({
    clientId,
    brokers,
    connectionTimeout: options.connectionTimeout ?? 3000,
    requestTimeout: options.requestTimeout ?? 30000,
    retry: options.retry ?? DEFAULT_RETRY,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(logger),
  });

  const ping = async (timeoutMs = 3000): Promise<void> => {
    const admin = raw.admin({ retry: { retries: 0 } });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`kafka did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const work = (async () => {
      await admin.connect();
      await admin.describeCluster();
    })();
    work.catch(() => undefined);
    try {
      await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
      await admin.disconnect().catch(() => undefined);
    }
  };

  const topicEnds = async (topic: string): Promise<Map<number, { low: bigint; high: bigint }>> => {
    const offsets = await fetchTopicOffsets(raw, topic);
    return new Map(offsets.map((p) => [p.partition, { low: BigInt(p.low), high: BigInt(p.high) }]));
  };

  const named = (name: string): string => `${prefix}${name}`;
  return { clientId, brokers: [...brokers], logger, raw, ping, topicEnds, topic: named, group: named };
}

/** Splits a comma-separated broker list (`KAFKA_BROKERS`) into addresses. */
export function parseBrokers(value: string): string[] {
  return value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

/** One partition's first and next offsets, as kafkajs's admin answers them. */
export interface PartitionEnds {
  partition: number;
  low: string;
  high: string;
}

/** A broker answer kafkajs marks retriable (e.g. NOT_LEADER_FOR_PARTITION, LEADER_NOT_AVAILABLE). */
export const isRetriable = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;

/**
 * Where each partition of a topic starts and ends now. kafkajs's `admin.fetchTopicOffsets` gives up at
 * once on a retriable broker answer such as "This server is not the leader for that topic-partition"
 * (seen right after a topic is created on a busy broker, and whenever a leader moves) without
 * refreshing the metadata that sent it there. So each attempt uses a fresh admin, which fetches fresh
 * metadata on connect; retriable answers are asked again up to `attempts` times, `delayMs` apart
 * (growing); anything else fails at once.
 */
export async function fetchTopicOffsets(
  kafka: Pick<Kafka, 'admin'>,
  topic: string,
  o: { attempts?: number; delayMs?: number } = {},
): Promise<PartitionEnds[]> {
  const attempts = o.attempts ?? 5;
  const delayMs = o.delayMs ?? 100;
  for (let attempt = 1; ; attempt += 1) {
    const admin = kafka.admin({ retry: { retries: 1 } });
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.map((p) => ({ partition: p.partition, low: p.low, high: p.high }));
    } catch (err) {
      if (attempt >= attempts || !isRetriable(err)) throw err;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs * attempt));
  }
}
