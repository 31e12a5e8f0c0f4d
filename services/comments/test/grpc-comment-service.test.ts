import { status, type Client } from '@grpc/grpc-js';
import {
  loadCommentsProto,
  loadHealthProto,
  type Comment,
  type CommentServiceClient,
  type GetCommentRequest,
  type HealthClient,
} from '@mpb/contracts';
import { callUnary, createGrpcClient, type GrpcServer } from '@mpb/service-kit';
import request from 'supertest';
import { COMMENT_SERVICE, createGrpcServer } from '../src/grpc/server';
import { createComment } from './helpers/api';
import { uniquePostId, uniqueUserId } from './helpers/factories';
import { startTestComments, type TestComments } from './helpers/harness';
import { PostServiceStandIn } from './helpers/post-stand-in';
import { bearer } from './helpers/tokens';

// Generous deadlines: the calls are fast, the machine running the tests may not be.
const CALL = { deadlineMs: 10_000 };

let t: TestComments;
let server: GrpcServer;
let comments: CommentServiceClient;
let health: HealthClient;
const posts = new PostServiceStandIn();

beforeAll(async () => {
  t = await startTestComments({ postsAddress: await posts.start() });
  server = createGrpcServer({ logger: t.logger, metrics: t.metrics, comments: t.context.comments });
  const port = await server.listen(0);
  comments = createGrpcClient(loadCommentsProto().blog.comments.v1.CommentService, `127.0.0.1:${port}`);
  health = createGrpcClient(loadHealthProto().grpc.health.v1.Health, `127.0.0.1:${port}`);
});

afterAll(async () => {
  (comments as unknown as Client).close();
  (health as unknown as Client).close();
  await server.close(1000);
  await t.close();
  await posts.stop();
});

const getComment = (req: GetCommentRequest) =>
  callUnary<GetCommentRequest, Comment>(comments, comments.GetComment, req, CALL);

describe('gRPC CommentService', () => {
  it('GetComment returns the comment with its post and owner', async () => {
    const postId = uniquePostId();
    posts.add(postId);
    const userId = uniqueUserId();
    const created = await createComment(t, postId, userId, 'over the wire');
    await expect(getComment({ id: created.id })).resolves.toEqual({
      id: created.id,
      post_id: postId,
      user_id: userId,
      text: 'over the wire',
      deleted: false,
      created_at: created.created_at,
      updated_at: created.updated_at,
    });
  });

  it('GetComment answers NOT_FOUND for a deleted comment unless include_deleted is set', async () => {
    const postId = uniquePostId();
    posts.add(postId);
    const created = await createComment(t, postId, 3);
    await request(t.app)
      .delete(`/api/comments/${created.id}`)
      .set('Authorization', bearer(t.tokens.sign(3)))
      .expect(204);
    await expect(getComment({ id: created.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'comment not found',
    });
    await expect(getComment({ id: created.id, include_deleted: true })).resolves.toMatchObject({
      id: created.id,
      deleted: true,
    });
  });

  it('GetComment answers NOT_FOUND for an unknown comment and INVALID_ARGUMENT for an impossible id', async () => {
    // Real gRPC status codes on the wire, mapped back to the error family by the client.
    await expect(getComment({ id: Number.MAX_SAFE_INTEGER })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      cause: expect.objectContaining({ code: status.NOT_FOUND }),
    });
    await expect(getComment({ id: 0 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: 'invalid comment id',
      cause: expect.objectContaining({ code: status.INVALID_ARGUMENT }),
    });
    await expect(getComment({ id: -5 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('answers the standard health check', async () => {
    await expect(callUnary(health, health.Check, { service: COMMENT_SERVICE }, CALL)).resolves.toEqual({
      status: 'SERVING',
    });
    await expect(callUnary(health, health.Check, { service: '' }, CALL)).resolves.toEqual({
      status: 'SERVING',
    });
  });
});
