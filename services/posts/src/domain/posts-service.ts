import type { TraceContext } from '@mpb/contracts';
import { badRequest, forbidden, notFound } from '@mpb/errors';
import type { LivePostCache } from './live-post-cache';
import { NO_COUNTS, toPostResponse, type Post, type PostResponse } from './post';
import { postCreatedEvent, postDeletedEvent, postUpdatedEvent } from './post-events';
import type { PostCountsPort, PostModification, PostStore } from './ports';
import type { ListQuery, NewPostInput, PostChanges } from './post-input';

export { SERVICE_NAME } from './post-events';

/** Texts of the old API, kept because clients match on them. */
export const Messages = {
  invalidPostId: 'invalid post id',
  postNotFound: 'post not found',
  updateOthers: 'you can update only your own posts',
  deleteOthers: 'you can delete only your own posts',
} as const;

/** Also metrics' limit for one GetCounts call, so a page of counts is always one call. */
export const MAX_IDS_PER_CALL = 100;

/** An anonymous reader, as metrics expects it. */
export const ANONYMOUS = 0;

export interface PostsServiceDeps {
  posts: PostStore;
  counts: PostCountsPort;
  /** Live posts remembered for reads; every update and delete made here forgets the post at once. */
  livePosts?: LivePostCache;
}

export interface PostPage {
  items: PostResponse[];
  total: number;
}

const changesOf = (current: Post, wanted: PostChanges): PostChanges => {
  const changes: PostChanges = {};
  if (wanted.title !== undefined && wanted.title !== current.title) changes.title = wanted.title;
  if (wanted.description !== undefined && wanted.description !== current.description)
    changes.description = wanted.description;
  if (wanted.tag !== undefined && wanted.tag !== current.tag) changes.tag = wanted.tag;
  return changes;
};

export class PostsService {
  constructor(private readonly d: PostsServiceDeps) {}

  /** One page of live posts, newest first, with counts from one metrics call for the whole page. */
  async list(query: ListQuery, viewerId = ANONYMOUS): Promise<PostPage> {
    const { posts, total } = await this.d.posts.list(query);
    const counts = await this.d.counts.countsOf(
      posts.map((p) => p.id),
      viewerId,
    );
    return { items: posts.map((p) => toPostResponse(p, counts.get(p.id) ?? NO_COUNTS)), total };
  }

  /**
   * Reads a live post and counts the read as a view; the counts returned include it. A look that is
   * not a read (an HTTP HEAD) counts nothing. `address` names an anonymous reader for metrics' view
   * deduplication; a reader counted already within the window is told through onViewNotRecorded.
   */
  async view(
    id: number,
    viewerId = ANONYMOUS,
    o: { countView?: boolean; address?: string; onViewNotRecorded?: () => void } = {},
  ): Promise<PostResponse> {
    const post = await this.live(id);
    if (o.countView === false) {
      const counts = await this.d.counts.countsOf([post.id], viewerId);
      return toPostResponse(post, counts.get(post.id) ?? NO_COUNTS);
    }
    const { counts, recorded } = await this.d.counts.tryRecordView(post.id, viewerId, o.address);
    if (!recorded) o.onViewNotRecorded?.();
    return toPostResponse(post, counts);
  }

  async create(userId: number, input: NewPostInput, trace: TraceContext = {}): Promise<PostResponse> {
    const post = await this.d.posts.createWithEvent({ ...input, userId }, (created) =>
      postCreatedEvent(created, trace),
    );
    return toPostResponse(post, NO_COUNTS);
  }

  /** Changes the fields given; a change that changes nothing writes nothing and emits no event. */
  async update(
    userId: number,
    id: number,
    wanted: PostChanges,
    trace: TraceContext = {},
  ): Promise<PostResponse> {
    const post = await this.modifyAndForget(id, (current): PostModification => {
      if (current.userId !== userId) throw forbidden(Messages.updateOthers);
      const changes = changesOf(current, wanted);
      if (Object.keys(changes).length === 0) return { kind: 'none' };
      return {
        kind: 'update',
        changes,
        event: (after) => postUpdatedEvent(after, trace),
      };
    });
    if (!post) throw notFound(Messages.postNotFound);
    const counts = await this.d.counts.countsOf([post.id], userId);
    return toPostResponse(post, counts.get(post.id) ?? NO_COUNTS);
  }

  /** Soft delete; the `post.deleted` event lets the other services remove what hangs off the post. */
  async remove(userId: number, id: number, trace: TraceContext = {}): Promise<void> {
    const post = await this.modifyAndForget(id, (current): PostModification => {
      if (current.userId !== userId) throw forbidden(Messages.deleteOthers);
      return {
        kind: 'delete',
        event: (after) => postDeletedEvent(after, trace),
      };
    });
    if (!post) throw notFound(Messages.postNotFound);
  }

  /** For other services: a post, deleted ones only when asked for. */
  async lookup(id: number, includeDeleted: boolean): Promise<Post> {
    const post = await this.d.posts.findById(id, { includeDeleted });
    if (!post) throw notFound(Messages.postNotFound);
    return post;
  }

  /** For other services: the known posts among `ids`, in the order asked, each once. */
  async lookupMany(ids: number[], includeDeleted: boolean): Promise<Post[]> {
    if (ids.length > MAX_IDS_PER_CALL) throw badRequest(`at most ${MAX_IDS_PER_CALL} ids per call`);
    const unique = [...new Set(ids)];
    const byId = new Map((await this.d.posts.findByIds(unique, { includeDeleted })).map((p) => [p.id, p]));
    return unique.flatMap((id) => {
      const post = byId.get(id);
      return post ? [post] : [];
    });
  }

  private async live(id: number): Promise<Post> {
    const post = this.d.livePosts
      ? await this.d.livePosts.get(id, (postId) => this.d.posts.findById(postId))
      : await this.d.posts.findById(id);
    if (!post) throw notFound(Messages.postNotFound);
    return post;
  }

  /** A change to a post; the cached copy is forgotten before it starts and again once it is done. */
  private async modifyAndForget(
    id: number,
    decide: (current: Post) => PostModification,
  ): Promise<Post | undefined> {
    this.d.livePosts?.forget(id);
    try {
      return await this.d.posts.modifyLive(id, decide);
    } finally {
      this.d.livePosts?.forget(id);
    }
  }
}
