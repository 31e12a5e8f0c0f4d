import { loadCommentsProto, type Comment as GrpcComment, type GetCommentRequest } from '@mpb/contracts';
import type { Logger } from '@mpb/logger';
import { GrpcServer, requireId, type ServiceMetrics } from '@mpb/service-kit';
import type { Comment } from '../domain/comment';
import { Messages, type CommentsService } from '../domain/comments-service';

export const COMMENT_SERVICE = 'blog.comments.v1.CommentService';

export interface GrpcDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  comments: CommentsService;
}

const toGrpcComment = (c: Comment): GrpcComment => ({
  id: c.id,
  post_id: c.postId,
  user_id: c.userId,
  text: c.text,
  deleted: c.deletedAt !== null,
  created_at: c.createdAt.toISOString(),
  updated_at: c.updatedAt.toISOString(),
});

/** Comment lookups for other services (attachments checks existence, post and ownership). */
export function createGrpcServer({ logger, metrics, comments }: GrpcDeps): GrpcServer {
  const server = new GrpcServer({ logger, metrics });
  server.add(COMMENT_SERVICE, loadCommentsProto().blog.comments.v1.CommentService.service, {
    GetComment: async (request: GetCommentRequest): Promise<GrpcComment> => {
      const id = requireId(request.id, Messages.invalidCommentId);
      return toGrpcComment(await comments.lookup(id, request.include_deleted === true));
    },
  });
  return server;
}
