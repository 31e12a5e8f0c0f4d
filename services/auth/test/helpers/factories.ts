import { randomBytes } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';

export const suffix = (): string => randomBytes(5).toString('hex');

export interface UserInput {
  name: string;
  username: string;
  email: string;
  password: string;
  age?: number;
}

/** A fresh user nobody else has, so tests never share state. */
export function newUser(overrides: Partial<UserInput> = {}): UserInput {
  const s = suffix();
  return {
    name: `Test User ${s}`,
    username: `user_${s}`,
    email: `user_${s}@example.test`,
    password: `pw-${s}-Secret`,
    age: 30,
    ...overrides,
  };
}

export async function register(app: Express, user: UserInput = newUser()): Promise<UserInput> {
  const res = await request(app).post('/api/auth/register').send(user);
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  return user;
}

export interface Session {
  token: string;
  refreshToken: string;
  user: { id: number; [key: string]: unknown };
}

export async function login(app: Express, user: Pick<UserInput, 'username' | 'password'>): Promise<Session> {
  const res = await request(app)
    .post('/api/auth/login')
    .send({ username: user.username, password: user.password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  return { token: res.body.token, refreshToken: res.body.refresh_token, user: res.body.user };
}

export const bearer = (token: string): string => `Bearer ${token}`;
