import { status, type Client } from '@grpc/grpc-js';
import request from 'supertest';
import {
  loadHealthProto,
  loadPostsProto,
  type GetPostRequest,
  type GetPostsRequest,
  type GetPostsResponse,
  type HealthClient,
  type Post,
  type PostServiceClient,
} from '@mpb/contracts';
import { callUnary, createGrpcClient, type GrpcServer } from '@mpb/service-kit';
import { createGrpcServer, POST_SERVICE } from '../src/grpc/server';
import { bearer, createPost, newPost, newUserId } from './helpers/factories';
import { startTestPosts, type TestPosts } from './helpers/harness';

// Generous deadlines: the calls are fast, the machine running the tests may not be.
const CALL = { deadlineMs: 10_000 };

let t: TestPosts;
let server: GrpcServer;
let posts: PostServiceClient;
let health: HealthClient;

beforeAll(async () => {
  t = await startTestPosts();
  server = createGrpcServer({ logger: t.logger, metrics: t.metrics, posts: t.context.posts });
  const port = await server.listen(0);
  posts = createGrpcClient(loadPostsProto().blog.posts.v1.PostService, `127.0.0.1:${port}`);
  health = createGrpcClient(loadHealthProto().grpc.health.v1.Health, `127.0.0.1:${port}`);
});

afterAll(async () => {
  (posts as unknown as Client).close();
  (health as unknown as Client).close();
  await server.close(1000);
  await t.close();
});

const getPost = (req: GetPostRequest) => callUnary<GetPostRequest, Post>(posts, posts.GetPost, req, CALL);
const getPosts = (req: GetPostsRequest) =>
  callUnary<GetPostsRequest, GetPostsResponse>(posts, posts.GetPosts, req, CALL);

async function deletedPost() {
  const owner = newUserId();
  const post = await createPost(t.app, t.tokenFor(owner));
  expect(
    (
      await request(t.app)
        .delete(`/api/posts/${post.id}`)
        .set('Authorization', bearer(t.tokenFor(owner)))
    ).status,
  ).toBe(204);
  return post;
}

describe('gRPC PostService', () => {
  it('GetPost returns the post with its owner and state', async () => {
    const owner = newUserId();
    const post = await createPost(t.app, t.tokenFor(owner), newPost({ tag: null }));
    await expect(getPost({ id: post.id })).resolves.toEqual({
      id: post.id,
      user_id: owner,
      title: post.title,
      description: post.description,
      tag: '',
      deleted: false,
      created_at: post.created_at,
      updated_at: post.updated_at,
    });
  });

  it('GetPost answers NOT_FOUND for unknown and deleted posts, unless deleted ones are asked for', async () => {
    await expect(getPost({ id: Number.MAX_SAFE_INTEGER })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'post not found',
    });
    const gone = await deletedPost();
    await expect(getPost({ id: gone.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      cause: { code: status.NOT_FOUND },
    });
    await expect(getPost({ id: gone.id, include_deleted: true })).resolves.toMatchObject({
      id: gone.id,
      deleted: true,
    });
  });

  it('GetPost refuses an impossible id with INVALID_ARGUMENT', async () => {
    for (const id of [0, -5]) {
      await expect(getPost({ id })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        message: 'invalid post id',
        cause: { code: status.INVALID_ARGUMENT },
      });
    }
  });

  it('GetPosts answers the known posts in the asked order, once each, leaving unknown and deleted ones out', async () => {
    const token = t.tokenFor(newUserId());
    const a = await createPost(t.app, token);
    const b = await createPost(t.app, token);
    const gone = await deletedPost();
    const asked = [b.id, Number.MAX_SAFE_INTEGER, a.id, gone.id, b.id, 0];

    const live = await getPosts({ ids: asked });
    expect((live.posts ?? []).map((p) => Number(p.id))).toEqual([b.id, a.id]);

    const all = await getPosts({ ids: asked, include_deleted: true });
    expect((all.posts ?? []).map((p) => [Number(p.id), p.deleted])).toEqual([
      [b.id, false],
      [a.id, false],
      [gone.id, true],
    ]);
    await expect(getPosts({ ids: [] })).resolves.toEqual({ posts: [] });
  });

  it('GetPosts refuses more than 100 ids', async () => {
    const ids = Array.from({ length: 101 }, (_, i) => i + 1);
    await expect(getPosts({ ids })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      cause: { code: status.INVALID_ARGUMENT },
    });
  });

  it('answers the standard health check', async () => {
    for (const service of [POST_SERVICE, '']) {
      await expect(callUnary(health, health.Check, { service }, CALL)).resolves.toEqual({
        status: 'SERVING',
      });
    }
  });
});
