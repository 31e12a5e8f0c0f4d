import { Topics } from '@mpb/contracts';
import { defineService, runService } from '@mpb/service-kit';
import { migrations } from '../migrations';
import { loadAttachmentsConfig } from './config';
import { createAttachmentsContext } from './context';
import { SERVICE_NAME } from './domain/attachments-service';
import { parentEventsHandler } from './events/parent-events';
import { GrpcOwnerDirectory } from './grpc/owner-directory';
import { createGrpcServer } from './grpc/server';
import { createHttpApp } from './http/app';
import { Reconciler } from './reconciler';
import { createS3Client, S3ObjectStore } from './storage/s3-object-store';

/** What attachments is made of; `runService` (below) and the test harness build it from this. */
export const attachmentsService = defineService({
  name: SERVICE_NAME,
  config: loadAttachmentsConfig,
  async build(kit) {
    const { config, logger, metrics } = kit;
    const knex = await kit.database({ migrations });
    // Revoked sessions from auth, held in memory: a token check never waits on the network.
    const revocations = await kit.revocations();
    const s3 = kit.closes('s3', createS3Client(config), (client) => client.destroy());
    const objects = new S3ObjectStore(s3, config.S3_BUCKET, config.UPLOAD_SPOOL_DIR);
    // auth, posts and comments may start later: keys are fetched on the first token, owners asked per upload.
    const owners = kit.closes(
      'owner clients',
      new GrpcOwnerDirectory({
        postsAddress: config.POSTS_GRPC_ADDR,
        commentsAddress: config.COMMENTS_GRPC_ADDR,
        deadlineMs: config.OWNER_DEADLINE_MS,
      }),
      (client) => client.close(),
    );
    const context = createAttachmentsContext({
      settings: config,
      knex,
      revocations,
      logger,
      objects,
      owners,
      loadKeys: kit.jwks(),
    });
    kit.worker(
      'reconciler',
      new Reconciler({
        attachments: context.attachments,
        logger,
        intervalSeconds: config.RECONCILE_INTERVAL_SECONDS,
        graceSeconds: config.RECONCILE_GRACE_SECONDS,
      }),
    );
    // Deletions of posts and comments (attachments publishes nothing); the topics are created on start.
    const consumer = kit.consumes({
      topics: [Topics.posts, Topics.comments],
      ledger: knex,
      handle: parentEventsHandler({
        attachments: context.attachments,
        consumer: config.KAFKA_GROUP_ID,
        logger,
      }),
    });
    return {
      context,
      knex,
      s3,
      objects,
      consumer,
      // The bucket must answer HeadBucket (else 503); without Kafka uploads and downloads still work.
      http: createHttpApp({
        ...context,
        logger,
        metrics,
        readiness: kit.readiness({ storage: () => objects.ping() }),
      }),
      grpc: createGrpcServer({ logger, metrics }),
      about: { group_id: config.KAFKA_GROUP_ID, bucket: config.S3_BUCKET },
    };
  },
});

if (require.main === module) void runService(attachmentsService);
