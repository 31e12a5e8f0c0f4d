import { status, type Client } from '@grpc/grpc-js';
import {
  loadCommentsProto,
  type Comment,
  type CommentServiceClient,
  type GetCommentRequest,
} from '@mpb/contracts';
import { callUnary, createGrpcClient, type GrpcServer } from '@mpb/service-kit';
import request from 'supertest';
import { postEventsHandler } from '../src/events/post-events';
import { createGrpcServer } from '../src/grpc/server';
import { createComment } from './helpers/api';
import { uniquePostId } from './helpers/factories';
import { startTestComments, type TestComments } from './helpers/harness';
import { postDeleted } from './helpers/post-events';
import { PostServiceStandIn } from './helpers/post-stand-in';

// The post-events consumer is not started: post.deleted never arrives, as while Kafka is down.
let t: TestComments;
let cached: TestComments;
let server: GrpcServer;
let grpcClient: CommentServiceClient;
const posts = new PostServiceStandIn();

beforeAll(async () => {
  const address = await posts.start();
  t = await startTestComments({ postsAddress: address });
  // A replica that trusts "live" for a minute: only post.deleted (or a read that finds out) clears it.
  cached = await startTestComments({ postsAddress: address, config: { POST_LIVENESS_CACHE_MS: '60000' } });
  server = createGrpcServer({ logger: t.logger, metrics: t.metrics, comments: t.context.comments });
  grpcClient = createGrpcClient(
    loadCommentsProto().blog.comments.v1.CommentService,
    `127.0.0.1:${await server.listen(0)}`,
  );
});

afterAll(async () => {
  (grpcClient as unknown as Client).close();
  await server?.close(1000);
  await t?.close();
  await cached?.close();
  await posts.stop();
});

const getComment = (req: GetCommentRequest) =>
  callUnary<GetCommentRequest, Comment>(grpcClient, grpcClient.GetComment, req, { deadlineMs: 10_000 });
const asked = (postId: number) => posts.requests.filter((r) => r.id === postId).length;

async function postWithComments(app: TestComments, n = 2): Promise<{ postId: number; ids: number[] }> {
  const postId = uniquePostId();
  posts.add(postId);
  const ids: number[] = [];
  for (let i = 0; i < n; i += 1) ids.push((await createComment(app, postId, 1, `comment ${i}`)).id);
  return { postId, ids };
}

const readPaths = (postId: number, ids: number[]) => [
  `/api/posts/${postId}/comments`,
  `/api/comments?post_id=${postId}`,
  ...ids.map((id) => `/api/comments/${id}`),
];

describe("a deleted post's comments, before post.deleted arrives", () => {
  it('answer 404 on every read path right after the delete, while a live post is unaffected', async () => {
    const gone = await postWithComments(t);
    const live = await postWithComments(t);
    for (const path of readPaths(gone.postId, gone.ids))
      expect((await request(t.app).get(path)).status).toBe(200);

    posts.markDeleted(gone.postId);

    for (const path of readPaths(gone.postId, gone.ids)) {
      const res = await request(t.app).get(path);
      expect(res.status).toBe(404);
      expect(res.body.error).toBe(path.startsWith('/api/comments/') ? 'comment not found' : 'post not found');
    }
    // Nothing was deleted here yet: the rows wait for the cascade.
    expect(await t.knex('comments').whereIn('id', gone.ids).whereNull('deleted_at')).toHaveLength(2);

    const list = await request(t.app).get(`/api/posts/${live.postId}/comments`);
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(2);
    expect(list.headers['x-total-count']).toBe('2');
    for (const id of live.ids) expect((await request(t.app).get(`/api/comments/${id}`)).status).toBe(200);
  });

  it('are NOT_FOUND over gRPC without include_deleted, and served as stored with it', async () => {
    const gone = await postWithComments(t, 1);
    posts.markDeleted(gone.postId);
    await expect(getComment({ id: gone.ids[0]! })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'comment not found',
      cause: expect.objectContaining({ code: status.NOT_FOUND }),
    });
    await expect(getComment({ id: gone.ids[0]!, include_deleted: true })).resolves.toMatchObject({
      id: gone.ids[0],
      deleted: false,
    });
  });

  it('are remembered as deleted: later reads do not ask posts again', async () => {
    const gone = await postWithComments(t, 1);
    posts.markDeleted(gone.postId);
    expect((await request(t.app).get(`/api/posts/${gone.postId}/comments`)).status).toBe(404);
    const before = asked(gone.postId);
    for (const path of readPaths(gone.postId, gone.ids))
      expect((await request(t.app).get(path)).status).toBe(404);
    expect(asked(gone.postId)).toBe(before);
  });

  it('are hidden at once on a replica that keeps live answers, when post.deleted reaches it', async () => {
    const gone = await postWithComments(cached, 1);
    expect((await request(cached.app).get(`/api/comments/${gone.ids[0]}`)).status).toBe(200);
    const handle = postEventsHandler({
      comments: cached.context.comments,
      consumer: cached.config.KAFKA_GROUP_ID,
      logger: cached.logger,
    });
    posts.markDeleted(gone.postId);
    await handle(postDeleted(gone.postId));
    for (const path of readPaths(gone.postId, gone.ids))
      expect((await request(cached.app).get(path)).status).toBe(404);
  });
});

describe('reads that need to know a post is live', () => {
  it('do not ask posts for a post without comments', async () => {
    const postId = uniquePostId();
    posts.add(postId);
    const res = await request(t.app).get(`/api/posts/${postId}/comments`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
    expect(asked(postId)).toBe(0);
  });

  it('share one call to posts when they arrive together', async () => {
    const { postId } = await postWithComments(t, 1);
    const before = asked(postId);
    posts.delayMs = 200;
    try {
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => request(t.app).get(`/api/posts/${postId}/comments`)),
      );
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    } finally {
      posts.delayMs = 0;
    }
    expect(asked(postId) - before).toBe(1);
  });

  it('ask posts on every read when live answers are not kept (the default), so a delete shows at once', async () => {
    const { postId, ids } = await postWithComments(t, 1);
    const before = asked(postId);
    await request(t.app).get(`/api/comments/${ids[0]}`);
    await request(t.app).get(`/api/comments/${ids[0]}`);
    expect(asked(postId) - before).toBe(2);
  });
});
