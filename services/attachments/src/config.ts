import { tmpdir } from 'node:os';
import Joi from 'joi';
import {
  authClientKeys,
  type AuthClientConfig,
  consumerMaxStallKey,
  ledgerRetentionKey,
  loadConfig,
  secretWithLocalDefault,
  serviceKeys,
  type ServiceConfig,
} from '@mpb/service-kit';

const MIB = 1024 * 1024;

export interface AttachmentsConfig extends ServiceConfig, AuthClientConfig {
  /** Processed-event ids are deleted after this many hours. */
  LEDGER_RETENTION_HOURS: number;
  /** Consumer group reading post and comment events; every replica uses the same one. */
  KAFKA_GROUP_ID: string;
  /** host:port of the posts gRPC server, asked who wrote a post before a file is attached to it. */
  POSTS_GRPC_ADDR: string;
  /** host:port of the comments gRPC server, asked who wrote a comment. */
  COMMENTS_GRPC_ADDR: string;
  /** Deadline of each ownership call to posts or comments. */
  OWNER_DEADLINE_MS: number;
  /** S3 API endpoint (s3proxy, MinIO); empty means AWS's own endpoint for S3_REGION. */
  S3_ENDPOINT: string;
  S3_REGION: string;
  S3_BUCKET: string;
  S3_ACCESS_KEY_ID: string;
  S3_SECRET_ACCESS_KEY: string;
  /** Path-style addressing (`endpoint/bucket/key`), which s3proxy and MinIO need. */
  S3_FORCE_PATH_STYLE: boolean;
  /** Prepended to every object key (`<prefix>posts/<post id>/<uuid>`); lets a bucket be shared. */
  S3_KEY_PREFIX: string;
  /** Longest one S3 request may take before the upload or download fails with a 503. */
  S3_REQUEST_TIMEOUT_MS: number;
  /** Directory of the temporary files uploads pass through on their way to S3 (one per file in flight). */
  UPLOAD_SPOOL_DIR: string;
  MAX_FILE_BYTES: number;
  MAX_FILES_PER_REQUEST: number;
  MAX_REQUEST_BYTES: number;
  /** Uploads one user may have in flight at once on one replica; more is a 429. */
  MAX_UPLOADS_IN_FLIGHT_PER_USER: number;
  /** Spool bytes all uploads in flight on one replica may reserve at once; more is a 503. */
  UPLOAD_SPOOL_MAX_BYTES: number;
  /** Retry-After (seconds) of those 429 and 503 answers. */
  UPLOAD_RETRY_AFTER_SECONDS: number;
  /**
   * How long a read may trust "this post / comment is live" before asking its service again (0:
   * never, every read of a parent with files asks; reads of one parent at once share a call).
   */
  PARENT_LIVENESS_CACHE_MS: number;
  /** Seconds between reconciliation runs (0: only at start-up). */
  RECONCILE_INTERVAL_SECONDS: number;
  /** Pending rows and unreferenced objects older than this are removed by reconciliation. */
  RECONCILE_GRACE_SECONDS: number;
  /** Makes `file_url` absolute (`https://api.example.com`); empty leaves it a path on the gateway. */
  PUBLIC_BASE_URL: string;
  /** /readyz fails when events wait and the consumer has not processed one for this long. */
  CONSUMER_MAX_STALL_SECONDS: number;
}

const grpcAddress = (port: number) =>
  Joi.string()
    .pattern(/^[^\s:,]+:\d{1,5}$/, 'host:port')
    .default(`127.0.0.1:${port}`);

export const configSchema = Joi.object<AttachmentsConfig>({
  ...serviceKeys({ name: 'attachments', httpPort: 3004, grpcPort: 50054 }),
  LEDGER_RETENTION_HOURS: ledgerRetentionKey(),
  KAFKA_GROUP_ID: Joi.string()
    .pattern(/^[A-Za-z0-9._-]{1,200}$/, 'consumer group id')
    .default('attachments'),
  ...authClientKeys(),
  POSTS_GRPC_ADDR: grpcAddress(50052),
  COMMENTS_GRPC_ADDR: grpcAddress(50053),
  OWNER_DEADLINE_MS: Joi.number().integer().min(50).max(30_000).default(1000),
  S3_ENDPOINT: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .allow('')
    .default('http://127.0.0.1:9000'),
  S3_REGION: Joi.string().default('us-east-1'),
  S3_BUCKET: Joi.string()
    .pattern(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'S3 bucket name')
    .default('mpb-attachments'),
  S3_ACCESS_KEY_ID: secretWithLocalDefault('mpb-local'),
  S3_SECRET_ACCESS_KEY: secretWithLocalDefault('mpb-local-secret'),
  S3_FORCE_PATH_STYLE: Joi.boolean().default(true),
  S3_KEY_PREFIX: Joi.string()
    .pattern(/^([A-Za-z0-9._-]+\/)*$/, 'empty, or path segments each ending in /')
    .allow('')
    .max(200)
    .default(''),
  S3_REQUEST_TIMEOUT_MS: Joi.number().integer().min(100).max(300_000).default(30_000),
  UPLOAD_SPOOL_DIR: Joi.string().default(tmpdir()),
  MAX_FILE_BYTES: Joi.number()
    .integer()
    .min(1)
    .max(5 * 1024 * MIB)
    .default(10 * MIB),
  MAX_FILES_PER_REQUEST: Joi.number().integer().min(1).max(100).default(10),
  MAX_REQUEST_BYTES: Joi.number()
    .integer()
    .min(1)
    .max(5 * 1024 * MIB)
    .default(50 * MIB),
  MAX_UPLOADS_IN_FLIGHT_PER_USER: Joi.number().integer().min(1).max(1000).default(3),
  // At least one file of the largest size must fit, or uploads of unknown length could never start.
  UPLOAD_SPOOL_MAX_BYTES: Joi.number()
    .integer()
    .min(Joi.ref('MAX_FILE_BYTES'))
    .max(1024 * 1024 * MIB)
    .default(1024 * MIB),
  UPLOAD_RETRY_AFTER_SECONDS: Joi.number().integer().min(1).max(3600).default(5),
  PARENT_LIVENESS_CACHE_MS: Joi.number().integer().min(0).max(60_000).default(0),
  RECONCILE_INTERVAL_SECONDS: Joi.number().integer().min(0).max(86_400).default(300),
  RECONCILE_GRACE_SECONDS: Joi.number()
    .integer()
    .min(1)
    .max(7 * 86_400)
    .default(900),
  PUBLIC_BASE_URL: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .pattern(/[^/]$/, 'no trailing slash')
    .allow('')
    .default(''),
  CONSUMER_MAX_STALL_SECONDS: consumerMaxStallKey(),
});

/** The one place that reads the environment. */
export function loadAttachmentsConfig(env: NodeJS.ProcessEnv = process.env): AttachmentsConfig {
  return loadConfig(configSchema, env);
}
