import type { Client } from '@grpc/grpc-js';
import {
  loadAuthProto,
  loadHealthProto,
  type GetUserRequest,
  type GetUsersRequest,
  type GetUsersResponse,
  type HealthClient,
  type User,
  type UserServiceClient,
} from '@mpb/contracts';
import { callUnary, createGrpcClient, type GrpcServer } from '@mpb/service-kit';
import { createGrpcServer, USER_SERVICE } from '../src/grpc/server';
import { login, register } from './helpers/factories';
import { startTestAuth, type TestAuth } from './helpers/harness';

// Generous deadlines: the calls are fast, the machine running the tests may not be.
const CALL = { deadlineMs: 10_000 };

let t: TestAuth;
let server: GrpcServer;
let users: UserServiceClient;
let health: HealthClient;

beforeAll(async () => {
  t = await startTestAuth();
  server = createGrpcServer({ logger: t.logger, metrics: t.metrics, auth: t.context.auth });
  const port = await server.listen(0);
  users = createGrpcClient(loadAuthProto().blog.auth.v1.UserService, `127.0.0.1:${port}`);
  health = createGrpcClient(loadHealthProto().grpc.health.v1.Health, `127.0.0.1:${port}`);
});

afterAll(async () => {
  (users as unknown as Client).close();
  (health as unknown as Client).close();
  await server.close(1000);
  await t.close();
});

async function newUserId(): Promise<{ id: number; name: string; username: string; email: string }> {
  const input = await register(t.app);
  const { user } = await login(t.app, input);
  return { id: user.id, name: input.name, username: input.username, email: input.email };
}

describe('gRPC UserService', () => {
  it('GetUser returns the public profile, never the e-mail', async () => {
    const u = await newUserId();
    const res = await callUnary<GetUserRequest, User>(users, users.GetUser, { id: u.id }, CALL);
    expect(res).toMatchObject({ id: u.id, name: u.name, username: u.username, age: 30, is_active: true });
    expect(new Date(res.created_at ?? '').toString()).not.toBe('Invalid Date');
    expect(JSON.stringify(res)).not.toContain(u.email);
  });

  it('GetUser answers NOT_FOUND for unknown and deactivated users, INVALID_ARGUMENT for impossible ids', async () => {
    await expect(
      callUnary<GetUserRequest, User>(users, users.GetUser, { id: Number.MAX_SAFE_INTEGER }, CALL),
    ).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'user not found' });
    const u = await newUserId();
    await t.knex('users').where({ id: u.id }).update({ is_active: false });
    await expect(
      callUnary<GetUserRequest, User>(users, users.GetUser, { id: u.id }, CALL),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      callUnary<GetUserRequest, User>(users, users.GetUser, { id: 0 }, CALL),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('GetUsers returns the known users in the asked order, once each, leaving unknown ids out', async () => {
    const a = await newUserId();
    const b = await newUserId();
    const res = await callUnary<GetUsersRequest, GetUsersResponse>(
      users,
      users.GetUsers,
      {
        ids: [b.id, Number.MAX_SAFE_INTEGER, a.id, b.id, 0],
      },
      CALL,
    );
    expect((res.users ?? []).map((u) => Number(u.id))).toEqual([b.id, a.id]);
    await expect(
      callUnary<GetUsersRequest, GetUsersResponse>(users, users.GetUsers, { ids: [] }, CALL),
    ).resolves.toEqual({ users: [] });
  });

  it('GetUsers refuses more than 100 ids', async () => {
    const ids = Array.from({ length: 101 }, (_, i) => i + 1);
    await expect(
      callUnary<GetUsersRequest, GetUsersResponse>(users, users.GetUsers, { ids }, CALL),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('answers the standard health check', async () => {
    await expect(callUnary(health, health.Check, { service: USER_SERVICE }, CALL)).resolves.toEqual({
      status: 'SERVING',
    });
    await expect(callUnary(health, health.Check, { service: '' }, CALL)).resolves.toEqual({
      status: 'SERVING',
    });
  });
});
