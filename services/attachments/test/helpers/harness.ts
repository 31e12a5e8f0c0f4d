import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import type { Knex } from 'knex';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { EventConsumer } from '@mpb/kafka';
import type { Logger } from '@mpb/logger';
import { buildService, createDb, type ServiceMetrics } from '@mpb/service-kit';
import {
  baseTestEnv,
  type RevocationFeedStandIn,
  startRevocationFeedStandIn,
  testDatabaseUrl,
  TestKeys,
} from '@mpb/test-kit';
import { loadAttachmentsConfig, type AttachmentsConfig } from '../../src/config';
import type { AttachmentsContext } from '../../src/context';
import { attachmentsService } from '../../src/main';
import { createS3Client, type S3ObjectStore } from '../../src/storage/s3-object-store';

export const TEST_DATABASE_URL = testDatabaseUrl(
  'mpb_attachments_test',
  process.env.ATTACHMENTS_TEST_DATABASE_URL,
);

export const suffix = (): string => randomBytes(5).toString('hex');
/** Ids no other test or run uses, so events left on the shared topics never touch this test's rows. */
export const uniqueId = (): number => randomInt(2 ** 40, 2 ** 48);

const S3_KEYS = ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_REGION'];

function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const s3 = Object.fromEntries(S3_KEYS.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
  return {
    ...baseTestEnv(TEST_DATABASE_URL),
    ...s3,
    KAFKA_CLIENT_ID: 'attachments-test',
    KAFKA_GROUP_ID: `attachments-test-${suffix()}`,
    // Each harness its own corner of the shared bucket: reconciliation and listings see only it.
    S3_KEY_PREFIX: `test-${suffix()}/`,
    UPLOAD_SPOOL_DIR: mkdtempSync(join(tmpdir(), 'attachments-test-')),
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, string> = {}): AttachmentsConfig {
  return loadAttachmentsConfig(testEnv(overrides));
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
  /** The parent-events consumer, running when started with `consume`. */
  consumer: EventConsumer;
  /** Every object key under this harness's prefix (and `under` within it), listed straight from the bucket. */
  bucketKeys(under?: string): Promise<string[]>;
  /** The temporary files uploads left in the spool directory (none, once every request answered). */
  spoolFiles(): string[];
  close(): Promise<void>;
}

/** The service in-process, built by main.ts's declaration, minus the ports, the reconciler and (unless `consume`) the consumer. */
export async function startTestAttachments(o: {
  ownersAddress: string;
  config?: Record<string, string>;
  /** Skip creating and migrating the database (a test pointing DATABASE_URL at a closed port). */
  unmigrated?: boolean;
  /** Start the parent-events consumer. */
  consume?: boolean;
}): Promise<TestAttachments> {
  const revocationFeed = await startRevocationFeedStandIn();
  const env = testEnv({
    AUTH_GRPC_ADDR: revocationFeed.address,
    POSTS_GRPC_ADDR: o.ownersAddress,
    COMMENTS_GRPC_ADDR: o.ownersAddress,
    ...o.config,
  });
  const config = loadAttachmentsConfig(env);
  const tokens = new TestKeys(config.JWT_ISSUER, config.JWT_AUDIENCE);
  const service = await buildService(attachmentsService, {
    env,
    loadKeys: tokens.loadKeys,
    ...(o.unmigrated ? { openDatabase: async (d) => createDb(d.settings.DATABASE_URL, { max: 2 }) } : {}),
  });
  const { context, knex, s3, objects, consumer, http } = service.parts;
  if (o.consume) service.start(['consumer', 'ledger pruner']);
  const checkS3 = createS3Client(testConfig());
  return {
    config: service.config,
    app: http,
    context,
    knex,
    revocationFeed,
    s3,
    objects,
    tokens,
    logger: service.kit.logger,
    metrics: service.kit.metrics,
    consumer,
    async bucketKeys(under = '') {
      const out = await checkS3.send(
        new ListObjectsV2Command({ Bucket: config.S3_BUCKET, Prefix: `${config.S3_KEY_PREFIX}${under}` }),
      );
      return (out.Contents ?? []).map((c) => c.Key!).sort();
    },
    spoolFiles: () => readdirSync(config.UPLOAD_SPOOL_DIR),
    async close() {
      rmSync(config.UPLOAD_SPOOL_DIR, { recursive: true, force: true });
      checkS3.destroy();
      await service.close();
      await revocationFeed.close();
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
