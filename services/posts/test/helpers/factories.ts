import { randomBytes, randomInt } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';

export const suffix = (): string => randomBytes(5).toString('hex');

/** A user id nobody else in the test database has: posts stores ids only, auth need not know it. */
export const newUserId = (): number => randomInt(1_000_000, 2 ** 47);

export interface PostInput {
  title: string;
  description: string;
  tag?: string | null;
}

export function newPost(overrides: Partial<PostInput> = {}): PostInput {
  const s = suffix();
  return { title: `Post ${s}`, description: `A description for post ${s}`, tag: `tag-${s}`, ...overrides };
}

export const bearer = (token: string): string => `Bearer ${token}`;

export interface CreatedPost {
  id: number;
  user_id: number;
  title: string;
  description: string;
  tag: string | null;
  like: number;
  count_viewers: number;
  created_at: string;
  updated_at: string;
}

export async function createPost(
  app: Express,
  token: string,
  input: PostInput = newPost(),
): Promise<CreatedPost> {
  const res = await request(app).post('/api/posts').set('Authorization', bearer(token)).send(input);
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  return res.body as CreatedPost;
}
