import { Redis, type RedisOptions } from 'ioredis';
import Joi from 'joi';
import { createKafka, parseBrokers, type KafkaClient } from '@mpb/kafka';
import { errorFields, type Logger } from '@mpb/logger';
import { kafkaClusterOf, type KafkaConfig } from './config';
import { GRPC_CLIENT_OPTIONS } from './grpc/client';

/**
 * The one timeouts policy of every client the platform makes (the service kit's factories below,
 * `createDb` and `createGrpcClient`): each call to another server is bounded, so a server that stops
 * answering turns into an error (a 503, a degraded readiness check, a retried batch), never a hang.
 */
export const CLIENT_TIMEOUTS = {
  database: {
    /** Longest wait for a pooled connection (knex's `acquireConnectionTimeout`). */
    acquireMs: 5000,
    /** Statements are cancelled past the service's DATABASE_STATEMENT_TIMEOUT_MS (default below). */
    statementMs: 5000,
  },
  redis: {
    /** Longest wait for the TCP connection. */
    connectMs: 2000,
    /** Longest wait for a command's answer, queued while reconnecting included (REDIS_COMMAND_TIMEOUT_MS). */
    commandMs: 2000,
    /** A command queued while the connection is down fails after this many reconnection attempts. */
    retriesPerRequest: 1,
  },
  kafka: {
    /** Longest wait for the TCP connection to a broker. */
    connectMs: 3000,
    /** Longest wait for a broker's answer to one request. */
    requestMs: 30_000,
    /** A readiness probe's wait for a broker's metadata answer. */
    pingMs: 1500,
  },
  grpc: {
    /** Keepalive pings (and their answer time), and the reconnect backoff: see GRPC_CLIENT_OPTIONS. */
    keepaliveMs: GRPC_CLIENT_OPTIONS['grpc.keepalive_time_ms'],
    keepaliveAnswerMs: GRPC_CLIENT_OPTIONS['grpc.keepalive_timeout_ms'],
    maxReconnectBackoffMs: GRPC_CLIENT_OPTIONS['grpc.max_reconnect_backoff_ms'],
  },
} as const;

/** The values of redisKeys. */
export interface RedisConfig {
  REDIS_URL: string;
  /** Longest wait for one Redis command (CLIENT_TIMEOUTS.redis.commandMs unless set). */
  REDIS_COMMAND_TIMEOUT_MS: number;
}

/** REDIS_URL (the local server by default) and REDIS_COMMAND_TIMEOUT_MS, for services that own Redis data. */
export const redisKeys = (commandTimeoutMs: number = CLIENT_TIMEOUTS.redis.commandMs) => ({
  REDIS_URL: Joi.string()
    .uri({ scheme: ['redis', 'rediss'] })
    .default('redis://127.0.0.1:6379'),
  REDIS_COMMAND_TIMEOUT_MS: Joi.number().integer().min(10).max(10_000).default(commandTimeoutMs),
});

export interface RedisClientOptions {
  logger: Logger;
  /** The service's REDIS_COMMAND_TIMEOUT_MS; CLIENT_TIMEOUTS.redis.commandMs when absent. */
  commandTimeoutMs?: number;
  /** Commands issued in the same tick share one write to Redis (a hot path's choice; off by default). */
  autoPipelining?: boolean;
}

/** ioredis options under the timeouts policy. */
export function redisClientOptions(o: Omit<RedisClientOptions, 'logger'> = {}): RedisOptions {
  return {
    connectTimeout: CLIENT_TIMEOUTS.redis.connectMs,
    commandTimeout: o.commandTimeoutMs ?? CLIENT_TIMEOUTS.redis.commandMs,
    maxRetriesPerRequest: CLIENT_TIMEOUTS.redis.retriesPerRequest,
    enableAutoPipelining: o.autoPipelining ?? false,
  };
}

/** How often a Redis client that keeps failing to connect logs it: once per this many ms. */
export const REDIS_WARNING_INTERVAL_MS = 10_000;

/**
 * A Redis client under the timeouts policy. It connects in the background and reconnects on its own;
 * connection errors are logged as warnings, at most one per REDIS_WARNING_INTERVAL_MS.
 */
export function createRedisClient(url: string, o: RedisClientOptions): Redis {
  const redis = new Redis(url, redisClientOptions(o));
  let lastWarning = 0;
  redis.on('error', (err: unknown) => {
    if (Date.now() - lastWarning < REDIS_WARNING_INTERVAL_MS) return;
    lastWarning = Date.now();
    o.logger.warn(errorFields(err), 'redis connection error');
  });
  return redis;
}

/** A Kafka client from the service's KAFKA_* keys, under the timeouts policy. */
export function createKafkaClient(
  config: Pick<KafkaConfig, 'KAFKA_BROKERS' | 'KAFKA_CLIENT_ID' | 'KAFKA_TOPIC_PREFIX'> &
    Partial<KafkaConfig>,
  logger: Logger,
): KafkaClient {
  return createKafka({
    clientId: config.KAFKA_CLIENT_ID,
    brokers: parseBrokers(config.KAFKA_BROKERS),
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    // Replication of the topics it creates and producer idempotence (KAFKA_REPLICATION_FACTOR, ...).
    cluster: kafkaClusterOf(config),
    logger,
    connectionTimeout: CLIENT_TIMEOUTS.kafka.connectMs,
    requestTimeout: CLIENT_TIMEOUTS.kafka.requestMs,
  });
}
