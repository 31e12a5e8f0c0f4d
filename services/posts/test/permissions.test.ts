import request from 'supertest';
import { bearer, createPost, newUserId } from './helpers/factories';
import { startTestPosts, type TestPosts } from './helpers/harness';

let t: TestPosts;

beforeAll(async () => {
  t = await startTestPosts();
});

afterAll(async () => {
  await t.close();
});

type Actor = 'owner' | 'other' | 'anonymous';
type Action = 'read' | 'update' | 'delete';

/** Expected status and error per cell; every cell runs against a post of its own. */
const matrix: Array<[Actor, Action, number, string | undefined]> = [
  ['owner', 'read', 200, undefined],
  ['owner', 'update', 200, undefined],
  ['owner', 'delete', 204, undefined],
  ['other', 'read', 200, undefined],
  ['other', 'update', 403, 'you can update only your own posts'],
  ['other', 'delete', 403, 'you can delete only your own posts'],
  ['anonymous', 'read', 200, undefined],
  ['anonymous', 'update', 401, 'missing token'],
  ['anonymous', 'delete', 401, 'missing token'],
];

describe('who may do what with a post', () => {
  it.each(matrix)('%s %s → %i', async (actor, action, status, error) => {
    const owner = newUserId();
    const post = await createPost(t.app, t.tokenFor(owner));
    const userId = actor === 'owner' ? owner : actor === 'other' ? newUserId() : undefined;
    const auth = (r: request.Test) =>
      userId === undefined ? r : r.set('Authorization', bearer(t.tokenFor(userId)));

    const path = `/api/posts/${post.id}`;
    const res = await (action === 'read'
      ? auth(request(t.app).get(path))
      : action === 'update'
        ? auth(request(t.app).put(path)).send({ title: 'Taken over', tag: 'pwned' })
        : auth(request(t.app).delete(path)));

    expect(res.status).toBe(status);
    if (error) expect(res.body.error).toBe(error);

    const row = await t.knex('posts').first('title', 'tag', 'deleted_at').where({ id: post.id });
    const changed = action === 'update' && status === 200;
    const removed = action === 'delete' && status === 204;
    expect(row.title).toBe(changed ? 'Taken over' : post.title);
    expect(row.deleted_at === null).toBe(!removed);
  });
});
