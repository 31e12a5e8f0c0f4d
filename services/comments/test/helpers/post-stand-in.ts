import type { ServerUnaryCall } from '@grpc/grpc-js';
import {
  loadPostsProto,
  type GetPostRequest,
  type GetPostsRequest,
  type GetPostsResponse,
  type Post,
} from '@mpb/contracts';
import { badRequest, notFound } from '@mpb/errors';
import { createLogger } from '@mpb/logger';
import { createMetrics, GrpcServer } from '@mpb/service-kit';

interface StoredPost {
  id: number;
  userId: number;
  deleted: boolean;
}

/**
 * A real gRPC server implementing blog.posts.v1.PostService from an in-test map: it stands in for the
 * posts *service*, so comments is tested over the wire without the posts code.
 */
export class PostServiceStandIn {
  private readonly posts = new Map<number, StoredPost>();
  private server: GrpcServer | undefined;
  /** Delays every answer, to exceed comments' deadline. */
  delayMs = 0;
  /** Every GetPost request received, for checking what comments asked. */
  readonly requests: Array<{ id: number; include_deleted: boolean; requestId?: string }> = [];
  port = 0;

  add(id: number, userId = 1): this {
    this.posts.set(id, { id, userId, deleted: false });
    return this;
  }

  markDeleted(id: number): this {
    const post = this.posts.get(id);
    if (post) post.deleted = true;
    return this;
  }

  async start(port = 0): Promise<string> {
    const server = new GrpcServer({
      logger: createLogger({ service: 'posts-stand-in', level: 'silent' }),
      metrics: createMetrics('posts-stand-in'),
    });
    server.add('blog.posts.v1.PostService', loadPostsProto().blog.posts.v1.PostService.service, {
      GetPost: async (
        request: GetPostRequest,
        call: ServerUnaryCall<GetPostRequest, Post>,
      ): Promise<Post> => {
        const id = Number(request.id);
        const requestId = call.metadata.get('x-request-id')[0];
        this.requests.push({
          id,
          include_deleted: request.include_deleted === true,
          ...(typeof requestId === 'string' ? { requestId } : {}),
        });
        await this.pause();
        if (!Number.isSafeInteger(id) || id < 1) throw badRequest('invalid post id');
        const post = this.posts.get(id);
        if (!post || (post.deleted && !request.include_deleted)) throw notFound('post not found');
        return this.toPost(post);
      },
      GetPosts: async (request: GetPostsRequest): Promise<GetPostsResponse> => {
        await this.pause();
        const posts = (request.ids ?? [])
          .map((id) => this.posts.get(Number(id)))
          .filter((p): p is StoredPost => !!p && (!p.deleted || request.include_deleted === true));
        return { posts: posts.map((p) => this.toPost(p)) };
      },
    });
    this.port = await server.listen(port);
    this.server = server;
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await this.server?.close(500);
    this.server = undefined;
  }

  private async pause(): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
  }

  private toPost(p: StoredPost): Post {
    const at = new Date().toISOString();
    return {
      id: p.id,
      user_id: p.userId,
      title: `post ${p.id}`,
      description: 'a post standing in for the posts service',
      tag: '',
      deleted: p.deleted,
      created_at: at,
      updated_at: at,
    };
  }
}
