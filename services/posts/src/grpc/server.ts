import {
  loadPostsProto,
  parseId,
  type GetPostRequest,
  type GetPostsRequest,
  type GetPostsResponse,
  type Post as GrpcPost,
} from '@mpb/contracts';
import { badRequest } from '@mpb/errors';
import type { Logger } from '@mpb/logger';
import { GrpcServer, requireId, type ServiceMetrics } from '@mpb/service-kit';
import type { Post } from '../domain/post';
import { MAX_IDS_PER_CALL, Messages, type PostsService } from '../domain/posts-service';

export const POST_SERVICE = 'blog.posts.v1.PostService';

export interface GrpcDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  posts: PostsService;
}

const toGrpcPost = (p: Post): GrpcPost => ({
  id: p.id,
  user_id: p.userId,
  title: p.title,
  description: p.description,
  // proto3 strings have no null: an untagged post has the empty tag.
  tag: p.tag ?? '',
  deleted: p.deletedAt !== null,
  created_at: p.createdAt.toISOString(),
  updated_at: p.updatedAt.toISOString(),
});

/** Existence, ownership and deletion state of posts, for comments, attachments and metrics. */
export function createGrpcServer({ logger, metrics, posts }: GrpcDeps): GrpcServer {
  const server = new GrpcServer({ logger, metrics });
  server.add(POST_SERVICE, loadPostsProto().blog.posts.v1.PostService.service, {
    GetPost: async (request: GetPostRequest): Promise<GrpcPost> => {
      const id = requireId(request.id, Messages.invalidPostId);
      return toGrpcPost(await posts.lookup(id, request.include_deleted === true));
    },
    GetPosts: async (request: GetPostsRequest): Promise<GetPostsResponse> => {
      const requested = request.ids ?? [];
      if (requested.length > MAX_IDS_PER_CALL) throw badRequest(`at most ${MAX_IDS_PER_CALL} ids per call`);
      // Ids that cannot exist are simply unknown, like ids that do not.
      const ids = requested.map(parseId).filter((id): id is number => id !== undefined);
      const found = await posts.lookupMany(ids, request.include_deleted === true);
      return { posts: found.map(toGrpcPost) };
    },
  });
  return server;
}
