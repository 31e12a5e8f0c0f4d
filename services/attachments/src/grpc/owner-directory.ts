import {
  loadCommentsProto,
  loadPostsProto,
  type Comment,
  type CommentServiceClient,
  type GetCommentRequest,
  type GetPostRequest,
  type Post,
  type PostServiceClient,
} from '@mpb/contracts';
import { isAppError, unavailable } from '@mpb/errors';
import { callUnary, createGrpcClient } from '@mpb/service-kit';
import type { Parent } from '../domain/attachment';
import { Messages } from '../domain/messages';
import type { OwnerDirectory } from '../domain/ports';

/**
 * Asks posts (GetPost) or comments (GetComment) who wrote a live post or comment. NOT_FOUND means
 * unknown or deleted; any other failure means the owner service cannot answer.
 */
export class GrpcOwnerDirectory implements OwnerDirectory {
  private readonly posts: PostServiceClient;
  private readonly comments: CommentServiceClient;

  constructor(o: { postsAddress: string; commentsAddress: string; deadlineMs: number }) {
    this.posts = createGrpcClient(loadPostsProto().blog.posts.v1.PostService, o.postsAddress);
    this.comments = createGrpcClient(loadCommentsProto().blog.comments.v1.CommentService, o.commentsAddress);
    this.deadlineMs = o.deadlineMs;
  }

  private readonly deadlineMs: number;

  async authorOf(parent: Parent, o: { requestId?: string } = {}): Promise<number | undefined> {
    const options = { deadlineMs: this.deadlineMs, requestId: o.requestId };
    const request = { id: parent.id, include_deleted: false };
    try {
      const found =
        parent.kind === 'post'
          ? await callUnary<GetPostRequest, Post>(this.posts, this.posts.GetPost, request, options)
          : await callUnary<GetCommentRequest, Comment>(
              this.comments,
              this.comments.GetComment,
              request,
              options,
            );
      return found.deleted === true ? undefined : Number(found.user_id);
    } catch (err) {
      if (isAppError(err) && err.code === 'NOT_FOUND') return undefined;
      throw unavailable(parent.kind === 'post' ? Messages.postsUnavailable : Messages.commentsUnavailable, {
        cause: err,
      });
    }
  }

  close(): void {
    this.posts.close();
    this.comments.close();
  }
}
