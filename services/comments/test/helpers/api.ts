import request from 'supertest';
import type { TestComments } from './harness';
import { bearer } from './tokens';

export interface CommentBody {
  id: number;
  post_id: number;
  user_id: number;
  text: string;
  like: number;
  blocked: boolean;
  created_at: string;
  updated_at: string;
}

/** Creates a comment through the API as the user; fails the test on anything but 201. */
export async function createComment(
  t: TestComments,
  postId: number,
  userId: number,
  text = `a comment on ${postId}`,
): Promise<CommentBody> {
  const res = await request(t.app)
    .post('/api/comments')
    .set('Authorization', bearer(t.tokens.sign(userId)))
    .send({ post_id: postId, text });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  return res.body as CommentBody;
}
