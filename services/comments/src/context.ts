import type { Knex } from 'knex';
import type { Logger } from '@mpb/logger';
import {
  sessionTokenVerifier,
  LivenessCache,
  type Jwk,
  type SessionRevocations,
  type TokenVerifier,
} from '@mpb/service-kit';
import type { CommentsConfig } from './config';
import { CommentRepository } from './data/comment-repository';
import { CommentsService } from './domain/comments-service';
import type { PostDirectory } from './domain/ports';

export type CommentsSettings = Pick<CommentsConfig, 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'POST_LIVENESS_CACHE_MS'>;

export interface CommentsContext {
  comments: CommentsService;
  /** Verifies access tokens with auth's public keys and refuses revoked sessions. */
  verifier: TokenVerifier;
}

/** Builds the domain objects on top of the clients main.ts (or a test) created. */
export function createCommentsContext(c: {
  settings: CommentsSettings;
  knex: Knex;
  /** The sessions auth revoked (followed from auth's feed in main.ts). */
  revocations: Pick<SessionRevocations, 'isRevoked'>;
  logger: Logger;
  posts: PostDirectory;
  /** auth's JWKS in production (jwksFromAuth); tests serve their own key. */
  loadKeys: () => Promise<Jwk[]>;
  cascadeChunkSize?: number;
}): CommentsContext {
  return {
    comments: new CommentsService({
      comments: new CommentRepository(c.knex),
      posts: c.posts,
      logger: c.logger,
      cascadeChunkSize: c.cascadeChunkSize,
      postLiveness: new LivenessCache<number>({ liveTtlMs: c.settings.POST_LIVENESS_CACHE_MS }),
    }),
    verifier: sessionTokenVerifier({
      settings: c.settings,
      loadKeys: c.loadKeys,
      revocations: c.revocations,
    }),
  };
}
