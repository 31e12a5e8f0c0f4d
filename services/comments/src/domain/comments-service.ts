import { createEnvelope, EventTypes, type EventType, type TraceContext } from '@mpb/contracts';
import { forbidden, notFound, unavailable } from '@mpb/errors';
import { errorFields, type Logger } from '@mpb/logger';
import {
  commentCreatedPayload,
  commentDeletedPayload,
  commentUpdatedPayload,
  type Comment,
  type CommentDeletedReason,
} from './comment';
import type { Page, PageRequest } from './pagination';
import type { CommentStore, EventOf, PostDirectory } from './ports';

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
}

export interface RequestContext {
  trace?: TraceContext;
  requestId?: string;
}

export class CommentsService {
  private readonly chunkSize: number;

  constructor(private readonly d: CommentsServiceDeps) {
    this.chunkSize = d.cascadeChunkSize ?? CASCADE_CHUNK_SIZE;
  }

  /**
   * Served from this service's own data: a post that does not exist (or was deleted, whose comments
   * the cascade removed) simply has no comments, and lists keep working while posts is down.
   */
  async listForPost(postId: number, request: PageRequest): Promise<Page<Comment>> {
    const { comments, total } = await this.d.comments.listLiveByPost(postId, request);
    return { items: comments, total, request };
  }

  /** A live comment; a deleted one is as unknown as one that never existed. */
  async get(id: number): Promise<Comment> {
    const comment = await this.d.comments.findById(id);
    if (!comment) throw notFound(Messages.commentNotFound);
    return comment;
  }

  /** For other services (gRPC): may include deleted comments, marked as such. */
  async lookup(id: number, includeDeleted: boolean): Promise<Comment> {
    const comment = await this.d.comments.findById(id, { includeDeleted });
    if (!comment) throw notFound(Messages.commentNotFound);
    return comment;
  }

  async create(
    input: { postId: number; userId: number; text: string },
    ctx: RequestContext = {},
  ): Promise<Comment> {
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
