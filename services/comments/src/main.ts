import { Topics } from '@mpb/contracts';
import { defineService, runService } from '@mpb/service-kit';
import { migrations } from '../migrations';
import { loadCommentsConfig } from './config';
import { createCommentsContext } from './context';
import { SERVICE_NAME } from './domain/comments-service';
import { postEventsHandler } from './events/post-events';
import { GrpcPostDirectory } from './grpc/post-directory';
import { createGrpcServer } from './grpc/server';
import { createHttpApp } from './http/app';

/**
 * What comments is made of; `runService` (below) and the test harness build it from this.
 * `cascadeChunkSize`: comments of a deleted post removed per transaction (tests make it small).
 */
export const commentsService = (o: { cascadeChunkSize?: number } = {}) =>
  defineService({
    name: SERVICE_NAME,
    config: loadCommentsConfig,
    async build(kit) {
      const { config, logger, metrics } = kit;
      const knex = await kit.database({ migrations });
      // Revoked sessions from auth, held in memory: a token check never waits on the network.
      const revocations = await kit.revocations();
      // auth and posts may start later: keys are fetched on the first token, posts asked per request.
      const posts = kit.closes(
        'posts client',
        new GrpcPostDirectory(config.POSTS_GRPC_ADDR, config.POSTS_DEADLINE_MS),
        (client) => client.close(),
      );
      const context = createCommentsContext({
        settings: config,
        knex,
        revocations,
        logger,
        posts,
        loadKeys: kit.jwks(),
        cascadeChunkSize: o.cascadeChunkSize,
      });
      // The consumed topic is created with the published one, so a misspelt topic fails loudly.
      const outbox = await kit.outbox({ knex, topics: [Topics.comments, Topics.posts] });
      const consumer = kit.consumes({
        topics: [Topics.posts],
        ledger: knex,
        handle: postEventsHandler({ comments: context.comments, consumer: config.KAFKA_GROUP_ID, logger }),
      });
      return {
        context,
        knex,
        posts,
        events: { ...outbox, consumer },
        http: createHttpApp({ ...context, logger, metrics, readiness: kit.readiness() }),
        grpc: createGrpcServer({ logger, metrics, comments: context.comments }),
        about: { group_id: config.KAFKA_GROUP_ID },
      };
    },
  });

if (require.main === module) void runService(commentsService());
