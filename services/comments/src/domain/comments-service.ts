import {
  createEnvelope,
  EventTypes,
  type CommentDeletedReason,
  type EventType,
  type TraceContext,
} from '@mpb/contracts';
import { forbidden, notFound, unavailable } from '@mpb/errors';
import { errorFields, type Logger } from '@mpb/logger';
import type { Page, PageRequest } from '@mpb/service-kit';
import { commentCreatedPayload, commentDeletedPayload, commentUpdatedPayload, type Comment } from './comment';
import type { CommentStore, EventOf, PostDirectory, PostLivenessMemory } from './ports';

/** Texts of the old API (and of this service's additions), kept because clients match on them. */
export const Messages = {
  commentNotFound: 'comment not found',
  postNotFound: 'post not found',
  postsUnavailable: 'posts service unavailable',
  updateForbidden: 'you can update only your own comments',
  deleteForbidden: 'you can delete only your own comments',
  invalidCommentId: 'invalid comment id',
  invalidPostId: 'invalid post id',
  invalidPostIdQuery: 'invalid post_id',
} as const;

export const SERVICE_NAME = 'comments';
export const COMMENT_AGGREGATE = 'comment';
/** Comments deleted per transaction when a post goes: bounds lock time and transaction size. */
export const CASCADE_CHUNK_SIZE = 1000;

export interface CommentsServiceDeps {
  comments: CommentStore;
  posts: PostDirectory;
  logger: Logger;
  cascadeChunkSize?: number;
  /** What reads remember of posts' liveness; without it every read that needs to know asks posts. */
  postLiveness?: PostLivenessMemory;
}

/** No memory: every question goes to posts. */
const askEveryTime: PostLivenessMemory = {
  known: () => undefined,
  isLive: (_postId, ask) => ask(),
  markGone: () => undefined,
};

export interface RequestContext {
  trace?: TraceContext;
  requestId?: string;
}

export class CommentsService {
  private readonly chunkSize: number;
  private readonly liveness: PostLivenessMemory;

  constructor(private readonly d: CommentsServiceDeps) {
    this.chunkSize = d.cascadeChunkSize ?? CASCADE_CHUNK_SIZE;
    this.liveness = d.postLiveness ?? askEveryTime;
  }

  /**
   * A live post's comments. A deleted post's comments are hidden at once (404 `post not found`),
   * before its `post.deleted` arrives to delete them: posts is asked when the post has comments and
   * its deletion is not known here yet. A post without comments (never created, or not commented)
   * is an empty list, without asking.
   */
  async listForPost(postId: number, request: PageRequest, ctx: RequestContext = {}): Promise<Page<Comment>> {
    if (this.liveness.known(postId) === false) throw notFound(Messages.postNotFound);
    const { comments, total, postDeleted } = await this.d.comments.listLiveByPost(postId, request);
    if (postDeleted) {
      this.liveness.markGone(postId);
      throw notFound(Messages.postNotFound);
    }
    if (total > 0 && !(await this.postIsLive(postId, ctx))) throw notFound(Messages.postNotFound);
    return { items: comments, total, request };
  }

  /** A live comment of a live post; anything else answers as a comment that never existed would. */
  async get(id: number, ctx: RequestContext = {}): Promise<Comment> {
    const comment = await this.d.comments.findById(id);
    if (!comment || !(await this.postIsLive(comment.postId, ctx))) throw notFound(Messages.commentNotFound);
    return comment;
  }

  /**
   * For other services (gRPC). Without `includeDeleted`, as `get`: a comment of a deleted post is
   * NOT_FOUND (attachments hides its files with it). With it, the row as stored, deleted or not,
   * without asking posts.
   */
  async lookup(id: number, includeDeleted: boolean, ctx: RequestContext = {}): Promise<Comment> {
    if (!includeDeleted) return this.get(id, ctx);
    const comment = await this.d.comments.findById(id, { includeDeleted });
    if (!comment) throw notFound(Messages.commentNotFound);
    return comment;
  }

  /** `post.deleted` arrived: reads stop asking posts about this post. */
  forgetDeletedPost(postId: number): void {
    this.liveness.markGone(postId);
  }

  /**
   * Whether the post of existing comments is live (it existed, so "not found" means deleted and is
   * remembered); 503 `posts service unavailable` when posts cannot tell (see README).
   */
  private async postIsLive(postId: number, ctx: RequestContext): Promise<boolean> {
    try {
      return await this.liveness.isLive(postId, () =>
        this.d.posts.postExists(postId, { requestId: ctx.requestId }),
      );
    } catch (err) {
      this.d.logger.warn({ post_id: postId, ...errorFields(err) }, 'posts service did not answer');
      throw unavailable(Messages.postsUnavailable, { cause: err });
    }
  }

  async create(
    input: { postId: number; userId: number; text: string },
    ctx: RequestContext = {},
  ): Promise<Comment> {
    // Asked afresh, never from memory: an id posts does not know yet may be a post created later.
    let exists: boolean;
    try {
      exists = await this.d.posts.postExists(input.postId, { requestId: ctx.requestId });
    } catch (err) {
      this.d.logger.warn({ post_id: input.postId, ...errorFields(err) }, 'posts service did not answer');
      throw unavailable(Messages.postsUnavailable, { cause: err });
    }
    if (!exists) throw notFound(Messages.postNotFound);
    const result = await this.d.comments.createWithEvent(
      input,
      this.eventOf(EventTypes.CommentCreated, commentCreatedPayload, ctx.trace),
    );
    // posts said yes, but its post.deleted has already been applied here: the deletion wins.
    if (result.outcome === 'post_deleted') throw notFound(Messages.postNotFound);
    return result.comment;
  }

  async update(id: number, userId: number, text: string, ctx: RequestContext = {}): Promise<Comment> {
    const result = await this.d.comments.updateTextWithEvent(
      id,
      userId,
      text,
      this.eventOf(EventTypes.CommentUpdated, commentUpdatedPayload, ctx.trace),
    );
    if (result.outcome === 'not_found') throw notFound(Messages.commentNotFound);
    if (result.outcome === 'forbidden') throw forbidden(Messages.updateForbidden);
    return result.comment;
  }

  async delete(id: number, userId: number, ctx: RequestContext = {}): Promise<void> {
    const result = await this.d.comments.softDeleteWithEvent(
      id,
      userId,
      this.deletedEvent('user', ctx.trace),
    );
    if (result.outcome === 'not_found') throw notFound(Messages.commentNotFound);
    if (result.outcome === 'forbidden') throw forbidden(Messages.deleteForbidden);
  }

  /**
   * Applies `post.deleted`: every live comment of the post is soft-deleted with a `comment.deleted`
   * (reason `post_deleted`), chunk by chunk. Returns how many comments this delivery deleted
   * (0 for a redelivery).
   */
  async removeCommentsOfDeletedPost(
    postId: number,
    event: { consumer: string; eventId: string; trace?: TraceContext },
  ): Promise<number> {
    let deleted = 0;
    for (;;) {
      const step = await this.d.comments.deleteCommentsOfDeletedPost({
        postId,
        consumer: event.consumer,
        eventId: event.eventId,
        chunkSize: this.chunkSize,
        event: this.deletedEvent('post_deleted', event.trace),
      });
      deleted += step.deleted;
      if (step.done || step.alreadyProcessed) return deleted;
    }
  }

  private deletedEvent(reason: CommentDeletedReason, trace?: TraceContext): EventOf {
    return this.eventOf(EventTypes.CommentDeleted, (c) => commentDeletedPayload(c, reason), trace);
  }

  private eventOf<P>(type: EventType, payload: (c: Comment) => P, trace: TraceContext = {}): EventOf {
    return (comment) =>
      createEnvelope({
        type,
        aggregateType: COMMENT_AGGREGATE,
        aggregateId: comment.id,
        payload: payload(comment),
        source: SERVICE_NAME,
        trace,
      });
  }
}
