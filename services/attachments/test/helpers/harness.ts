import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import type { Knex } from 'knex';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createLogger, type Logger } from '@mpb/logger';
import { createMetrics, followSessionRevocations, type ServiceMetrics } from '@mpb/service-kit';
import {
  baseTestEnv,
  prepareTestDatabase,
  type RevocationFeedStandIn,
  startRevocationFeedStandIn,
  testDatabaseUrl,
  TestKeys,
} from '@mpb/test-kit';
import { migrations } from '../../migrations';
import { loadAttachmentsConfig, type AttachmentsConfig } from '../../src/config';
import { createAttachmentsContext, type AttachmentsContext } from '../../src/context';
import { GrpcOwnerDirectory } from '../../src/grpc/owner-directory';
import { createHttpApp } from '../../src/http/app';
import { readinessChecks } from '../../src/readiness';
import { createS3Client, S3ObjectStore } from '../../src/storage/s3-object-store';

export const TEST_DATABASE_URL = testDatabaseUrl(
  'mpb_attachments_test',
  process.env.ATTACHMENTS_TEST_DATABASE_URL,
);

export const suffix = (): string => randomBytes(5).toString('hex');
/** Ids no other test or run uses, so events left on the shared topics never touch this test's rows. */
export const uniqueId = (): number => randomInt(2 ** 40, 2 ** 48);

const S3_KEYS = ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_REGION'];

export function testConfig(overrides: Record<string, string> = {}): AttachmentsConfig {
  const s3 = Object.fromEntries(S3_KEYS.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
  return loadAttachmentsConfig({
    ...baseTestEnv(TEST_DATABASE_URL),
    ...s3,
    KAFKA_GROUP_ID: `attachments-test-${suffix()}`,
    // Each harness its own corner of the shared bucket: reconciliation and listings see only it.
    S3_KEY_PREFIX: `test-${suffix()}/`,
    UPLOAD_SPOOL_DIR: mkdtempSync(join(tmpdir(), 'attachments-test-')),
    ...overrides,
  });
}

export interface TestAttachments {
  config: AttachmentsConfig;
  app: Express;
  context: AttachmentsContext;
  knex: Knex;
  /** auth's revocation feed as the service follows it: `revoke` a session there. */
  revocationFeed: RevocationFeedStandIn;
  s3: S3Client;
  objects: S3ObjectStore;
  tokens: TestKeys;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Every object key under this harness's prefix (and `under` within it), listed straight from the bucket. */
  bucketKeys(under?: string): Promise<string[]>;
  /** The temporary files uploads left in the spool directory (none, once every request answered). */
  spoolFiles(): string[];
  close(): Promise<void>;
}

/** The service in-process, wired as main.ts wires it, minus the ports and the consumer. */
export async function startTestAttachments(o: {
  ownersAddress: string;
  config?: Record<string, string>;
  /** Skip creating and migrating the database (a test pointing DATABASE_URL at a closed port). */
  unmigrated?: boolean;
}): Promise<TestAttachments> {
  const revocationFeed = await startRevocationFeedStandIn();
  const config = testConfig({
    AUTH_GRPC_ADDR: revocationFeed.address,
    POSTS_GRPC_ADDR: o.ownersAddress,
    COMMENTS_GRPC_ADDR: o.ownersAddress,
    ...o.config,
  });
  const logger = createLogger({ service: 'attachments', level: config.LOG_LEVEL });
  const metrics = createMetrics('attachments');
  const knex = o.unmigrated
    ? (await import('@mpb/service-kit')).createDb(config.DATABASE_URL, { max: 2 })
    : await prepareTestDatabase(config.DATABASE_URL, migrations);
  const revocations = await followSessionRevocations(config.AUTH_GRPC_ADDR, logger);
  const tokens = new TestKeys(config.JWT_ISSUER, config.JWT_AUDIENCE);
  const s3 = createS3Client(config);
  const objects = new S3ObjectStore(s3, config.S3_BUCKET, config.UPLOAD_SPOOL_DIR);
  const owners = new GrpcOwnerDirectory({
    postsAddress: config.POSTS_GRPC_ADDR,
    commentsAddress: config.COMMENTS_GRPC_ADDR,
    deadlineMs: config.OWNER_DEADLINE_MS,
  });
  const context = createAttachmentsContext({
    settings: config,
    knex,
    revocations,
    logger,
    objects,
    owners,
    loadKeys: tokens.loadKeys,
  });
  const app = createHttpApp({
    ...context,
    logger,
    metrics,
    readiness: readinessChecks({
      knex,
      kafka: { ping: async () => undefined },
      storage: objects,
      consumer: { status: () => ({ running: true, lastProcessedAt: new Date() }), lag: async () => 0 },
      consumerMaxStallSeconds: config.CONSUMER_MAX_STALL_SECONDS,
    }),
  });
  const checkS3 = createS3Client(testConfig());
  return {
    config,
    app,
    context,
    knex,
    revocationFeed,
    s3,
    objects,
    tokens,
    logger,
    metrics,
    async bucketKeys(under = '') {
      const out = await checkS3.send(
        new ListObjectsV2Command({ Bucket: config.S3_BUCKET, Prefix: `${config.S3_KEY_PREFIX}${under}` }),
      );
      return (out.Contents ?? []).map((c) => c.Key!).sort();
    },
    spoolFiles: () => readdirSync(config.UPLOAD_SPOOL_DIR),
    async close() {
      rmSync(config.UPLOAD_SPOOL_DIR, { recursive: true, force: true });
      owners.close();
      s3.destroy();
      checkS3.destroy();
      await revocations.stop();
      await revocationFeed.close();
      await knex.destroy();
    },
  };
}

export const bearer = (token: string): string => `Bearer ${token}`;

/** Sample files whose first bytes are what they claim. */
export const samples = {
  png: (size = 2048): Buffer => {
    const b = Buffer.alloc(size, 7);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b);
    return b;
  },
  pdf: (size = 2048): Buffer => {
    const b = Buffer.alloc(size, 0x20);
    b.write('%PDF-1.7\n');
    return b;
  },
  text: (size = 2048): Buffer => Buffer.from('hello, world\n'.repeat(Math.ceil(size / 13))).subarray(0, size),
  elf: (): Buffer => Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(512)]),
  html: (): Buffer => Buffer.from('<!DOCTYPE html><html><script>alert(1)</script></html>'),
};
