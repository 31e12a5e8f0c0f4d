import request from 'supertest';
import { createComment } from './helpers/api';
import { uniquePostId, uniqueUserId } from './helpers/factories';
import { startTestComments, type TestComments } from './helpers/harness';
import { PostServiceStandIn } from './helpers/post-stand-in';
import { bearer } from './helpers/tokens';

let t: TestComments;
const posts = new PostServiceStandIn();

beforeAll(async () => {
  t = await startTestComments({ postsAddress: await posts.start() });
});

afterAll(async () => {
  await t.close();
  await posts.stop();
});

type Actor = 'owner' | 'other user' | 'anonymous';
type Action = 'read' | 'list' | 'update' | 'delete';

/** Expected status per cell, and the error text where the old API fixed one. */
const MATRIX: Array<[Actor, Action, number, string?]> = [
  ['owner', 'read', 200],
  ['owner', 'list', 200],
  ['owner', 'update', 200],
  ['owner', 'delete', 204],
  ['other user', 'read', 200],
  ['other user', 'list', 200],
  ['other user', 'update', 403, 'you can update only your own comments'],
  ['other user', 'delete', 403, 'you can delete only your own comments'],
  ['anonymous', 'read', 200],
  ['anonymous', 'list', 200],
  ['anonymous', 'update', 401, 'missing token'],
  ['anonymous', 'delete', 401, 'missing token'],
];

describe('who may do what with a comment', () => {
  const cells = MATRIX.map(([actor, action, status, error]) => ({ actor, action, status, error }));

  it.each(cells)('$actor → $action: $status', async ({ actor, action, status, error }) => {
    const postId = uniquePostId();
    posts.add(postId);
    const ownerId = uniqueUserId();
    const comment = await createComment(t, postId, ownerId, 'original');
    const userId = actor === 'owner' ? ownerId : actor === 'other user' ? ownerId + 1 : undefined;
    const withAuth = (r: request.Test): request.Test =>
      userId === undefined ? r : r.set('Authorization', bearer(t.tokens.sign(userId)));

    const path = `/api/comments/${comment.id}`;
    const res = await {
      read: () => withAuth(request(t.app).get(path)),
      list: () => withAuth(request(t.app).get(`/api/comments?post_id=${postId}`)),
      update: () => withAuth(request(t.app).put(path)).send({ text: 'changed' }),
      delete: () => withAuth(request(t.app).delete(path)),
    }[action]();

    expect(res.status).toBe(status);
    if (error) expect(res.body.error).toBe(error);

    // A refused change leaves the comment as it was; an allowed one shows.
    const after = await request(t.app).get(path);
    if (status === 204) expect(after.status).toBe(404);
    else expect(after.body.text).toBe(status === 200 && action === 'update' ? 'changed' : 'original');
  });
});
