import {
  loadCommentsProto,
  loadPostsProto,
  type Comment,
  type GetCommentRequest,
  type GetPostRequest,
  type Post,
} from '@mpb/contracts';
import { notFound } from '@mpb/errors';
import { createLogger } from '@mpb/logger';
import { createMetrics, GrpcServer } from '@mpb/service-kit';

interface Owned {
  author: number;
  deleted: boolean;
}

/**
 * One real gRPC server playing both owner services (blog.posts.v1.PostService and
 * blog.comments.v1.CommentService) from in-test maps, so attachments is tested over the
 * wire without the posts and comments code.
 */
export class OwnersStandIn {
  readonly posts = new Map<number, Owned>();
  readonly comments = new Map<number, Owned>();
  private server: GrpcServer | undefined;
  port = 0;
  /** Every lookup received, as `post:<id>` / `comment:<id>`, for checking what attachments asked. */
  readonly asked: string[] = [];

  addPost(id: number, author: number): this {
    this.posts.set(id, { author, deleted: false });
    return this;
  }

  addComment(id: number, author: number): this {
    this.comments.set(id, { author, deleted: false });
    return this;
  }

  async start(port = 0): Promise<string> {
    const server = new GrpcServer({
      logger: createLogger({ service: 'owners-stand-in', level: 'silent' }),
      metrics: createMetrics('owners-stand-in'),
    });
    const now = () => new Date().toISOString();
    const find = (
      map: Map<number, Owned>,
      id: unknown,
      includeDeleted: boolean | undefined,
      what: string,
    ) => {
      const found = map.get(Number(id));
      if (!found || (found.deleted && !includeDeleted)) throw notFound(`${what} not found`);
      return found;
    };
    const post = (id: GetPostRequest['id'], p: Owned): Post => ({
      id,
      user_id: p.author,
      title: 't',
      description: 'd',
      tag: '',
      deleted: p.deleted,
      created_at: now(),
      updated_at: now(),
    });
    server.add('blog.posts.v1.PostService', loadPostsProto().blog.posts.v1.PostService.service, {
      GetPost: async (r: GetPostRequest): Promise<Post> => {
        this.asked.push(`post:${r.id}`);
        return post(r.id, find(this.posts, r.id, r.include_deleted, 'post'));
      },
      // attachments asks one post at a time; the batch call answers from the same map.
      GetPosts: async (r) => ({
        posts: r.ids.flatMap((id) => {
          const p = this.posts.get(Number(id));
          return p && (!p.deleted || r.include_deleted) ? [post(id, p)] : [];
        }),
      }),
    });
    server.add(
      'blog.comments.v1.CommentService',
      loadCommentsProto().blog.comments.v1.CommentService.service,
      {
        GetComment: async (r: GetCommentRequest): Promise<Comment> => {
          this.asked.push(`comment:${r.id}`);
          const c = find(this.comments, r.id, r.include_deleted, 'comment');
          return {
            id: r.id,
            post_id: 1,
            user_id: c.author,
            text: 't',
            deleted: c.deleted,
            created_at: now(),
            updated_at: now(),
          };
        },
      },
    );
    this.port = await server.listen(port);
    this.server = server;
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await this.server?.close(500);
    this.server = undefined;
  }
}
