import {
  loadPostsProto,
  type GetPostRequest,
  type GetPostsRequest,
  type GetPostsResponse,
  type Post,
} from '@mpb/contracts';
import { notFound } from '@mpb/errors';
import { createLogger } from '@mpb/logger';
import { createMetrics, GrpcServer } from '@mpb/service-kit';

/**
 * Stands in for the posts *service*: a real gRPC server on a real port speaking the posts contract,
 * knowing the posts a test creates and deletes. It counts GetPost calls.
 */
export class PostsStandIn {
  readonly calls: number[] = [];
  private readonly live = new Set<number>();
  private readonly deleted = new Set<number>();
  private server: GrpcServer | undefined;
  port = 0;

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  create(...ids: number[]): void {
    for (const id of ids) this.live.add(id);
  }

  delete(id: number): void {
    this.live.delete(id);
    this.deleted.add(id);
  }

  /** Listens on the given port (so a restart keeps the address), or a free one. */
  async start(port = this.port): Promise<this> {
    const server = new GrpcServer({
      logger: createLogger({ service: 'posts-stand-in', level: 'silent' }),
      metrics: createMetrics('posts-stand-in'),
    });
    const post = (id: number): Post => ({
      id,
      user_id: 1,
      title: `post ${id}`,
      description: 'a post of the metrics tests',
      tag: '',
      deleted: this.deleted.has(id),
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
    });
    server.add('blog.posts.v1.PostService', loadPostsProto().blog.posts.v1.PostService.service, {
      GetPost: async (req: GetPostRequest): Promise<Post> => {
        const id = Number(req.id);
        this.calls.push(id);
        if (this.live.has(id) || (req.include_deleted && this.deleted.has(id))) return post(id);
        throw notFound('post not found');
      },
      GetPosts: async (req: GetPostsRequest): Promise<GetPostsResponse> => ({
        posts: (req.ids ?? [])
          .map(Number)
          .filter((id) => this.live.has(id))
          .map(post),
      }),
    });
    this.port = await server.listen(port);
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    await this.server?.close(200);
    this.server = undefined;
  }
}
