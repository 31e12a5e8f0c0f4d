import { loadPostsProto, type GetPostRequest, type Post, type PostServiceClient } from '@mpb/contracts';
import { isAppError } from '@mpb/errors';
import { callUnary, createGrpcClient } from '@mpb/service-kit';
import type { PostDirectory } from '../domain/ports';

/** Asks the posts service (blog.posts.v1.PostService/GetPost) whether a post exists and is not deleted. */
export class GrpcPostDirectory implements PostDirectory {
  private readonly client: PostServiceClient;

  constructor(
    address: string,
    private readonly deadlineMs: number,
  ) {
    this.client = createGrpcClient(loadPostsProto().blog.posts.v1.PostService, address);
  }

  async postExists(postId: number, o: { requestId?: string } = {}): Promise<boolean> {
    try {
      const post = await callUnary<GetPostRequest, Post>(
        this.client,
        this.client.GetPost,
        { id: postId, include_deleted: false },
        { deadlineMs: this.deadlineMs, requestId: o.requestId },
      );
      return post.deleted !== true;
    } catch (err) {
      if (isAppError(err) && err.code === 'NOT_FOUND') return false;
      throw err;
    }
  }

  close(): void {
    this.client.close();
  }
}
