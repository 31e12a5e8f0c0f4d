import type { Client } from '@grpc/grpc-js';
import { loadPostsProto, type GetPostRequest, type Post, type PostServiceClient } from '@mpb/contracts';
import { isAppError, notFound, unavailable } from '@mpb/errors';
import { callUnary, createGrpcClient } from '@mpb/service-kit';
import { LRUCache } from 'lru-cache';
import { Messages } from '../domain/metrics-service';
import type { PostDirectory } from '../domain/ports';

export interface PostsDirectoryOptions {
  /** host:port of the posts service's gRPC server. */
  address: string;
  deadlineMs: number;
  /** How long "this post exists" is reused; 0 asks every time. */
  cacheTtlMs: number;
  /** Most posts remembered. */
  cacheSize?: number;
}

export interface GrpcPostDirectory extends PostDirectory {
  close(): void;
}

/**
 * Asks posts whether a post exists before a like changes anything. Positive answers are remembered
 * briefly (a post deleted meanwhile is also caught by the deletion marker in Redis); negative ones
 * never, so a post created a moment ago can be liked at once. Concurrent questions about one post
 * share one call.
 */
export function createPostDirectory(o: PostsDirectoryOptions): GrpcPostDirectory {
  const { PostService } = loadPostsProto().blog.posts.v1;
  // The kit's client options: after posts restarts, likes work again within about a second.
  const client: PostServiceClient = createGrpcClient(PostService, o.address);
  // The posts that exist, each for cacheTtlMs (least recently used forgotten first beyond the bound).
  const live =
    o.cacheTtlMs > 0 ? new LRUCache<number, true>({ max: o.cacheSize ?? 10_000, ttl: o.cacheTtlMs }) : undefined;
  const inflight = new Map<number, Promise<void>>();

  const ask = async (postId: number): Promise<void> => {
    let post: Post;
    try {
      post = await callUnary<GetPostRequest, Post>(
        client,
        client.GetPost,
        { id: postId, include_deleted: false },
        { deadlineMs: o.deadlineMs },
      );
    } catch (err) {
      if (isAppError(err) && (err.code === 'NOT_FOUND' || err.code === 'BAD_REQUEST')) {
        throw notFound(Messages.postNotFound);
      }
      throw unavailable('posts service unavailable; nothing was changed, try again', { cause: err });
    }
    if (post.deleted) throw notFound(Messages.postNotFound);
    live?.set(postId, true);
  };

  return {
    async assertLive(postId) {
      if (live?.get(postId)) return;
      let pending = inflight.get(postId);
      if (!pending) {
        pending = ask(postId).finally(() => inflight.delete(postId));
        inflight.set(postId, pending);
      }
      await pending;
    },
    forget(postId) {
      live?.delete(postId);
    },
    close() {
      (client as Client).close();
    },
  };
}
