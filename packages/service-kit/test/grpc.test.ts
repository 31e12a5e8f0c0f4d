import type { Client } from '@grpc/grpc-js';
import {
  loadAuthProto,
  loadHealthProto,
  type UserServiceClient,
  type HealthClient,
  type GetUserRequest,
  type User,
} from '@mpb/contracts';
import { notFound } from '@mpb/errors';
import { createLogger } from '@mpb/logger';
import { activeTraceIds, contextFrom, initTracing, withContext, withRequestId } from '@mpb/telemetry';
import { callUnary, createGrpcClient, createMetrics, GrpcServer } from '../src';

const logger = createLogger({ service: 'kit-test', level: 'silent' });
initTracing({ service: 'kit-test' });
const seenIds: Array<ReturnType<typeof activeTraceIds>> = [];

describe('gRPC server and client', () => {
  const server = new GrpcServer({ logger, metrics: createMetrics('kit-test') });
  let users: UserServiceClient;
  let health: HealthClient;

  beforeAll(async () => {
    const auth = loadAuthProto().blog.auth.v1;
    server.add('blog.auth.v1.UserService', auth.UserService.service, {
      GetUser: async (req: GetUserRequest): Promise<User> => {
        seenIds.push(activeTraceIds());
        if (Number(req.id) === 1)
          return { id: 1, name: 'Ann', username: 'ann', is_active: true, created_at: 'now' };
        if (Number(req.id) === 2) await new Promise((r) => setTimeout(r, 300));
        if (Number(req.id) === 3) throw new Error('db exploded at /srv/x.js');
        throw notFound('user not found');
      },
      GetUsers: async () => ({ users: [] }),
    });
    const port = await server.listen(0);
    users = createGrpcClient(auth.UserService, `127.0.0.1:${port}`);
    health = createGrpcClient(loadHealthProto().grpc.health.v1.Health, `127.0.0.1:${port}`);
  });

  afterAll(async () => {
    (users as unknown as Client).close();
    (health as unknown as Client).close();
    await server.close(1000);
  });

  it('returns the response of a handler', async () => {
    await expect(callUnary(users, users.GetUser, { id: 1 })).resolves.toMatchObject({
      id: 1,
      username: 'ann',
    });
  });

  it("runs the handler in the caller's trace and request, as a child of the caller's span", async () => {
    const caller = withRequestId(
      contextFrom({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }),
      'req-42',
    );
    seenIds.length = 0;
    await withContext(caller, () => callUnary(users, users.GetUser, { id: 1 }, { requestId: 'req-42' }));
    expect(seenIds[0]).toEqual({
      request_id: 'req-42',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(seenIds[0]!.span_id).not.toBe('00f067aa0ba902b7'); // the server's own span
    seenIds.length = 0;
    await callUnary(users, users.GetUser, { id: 1 }); // outside any trace: a new one
    expect(seenIds[0]!.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(seenIds[0]!.trace_id).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('maps a domain error to its code and message on the caller side', async () => {
    await expect(callUnary(users, users.GetUser, { id: 9 })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'user not found',
    });
  });

  it('hides an internal error message from the caller', async () => {
    await expect(callUnary(users, users.GetUser, { id: 3 })).rejects.toMatchObject({
      code: 'INTERNAL',
      message: 'internal server error',
    });
  });

  it('enforces the deadline', async () => {
    await expect(callUnary(users, users.GetUser, { id: 2 }, { deadlineMs: 50 })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
  });

  it('answers the standard health check, for the server and for a named service', async () => {
    await expect(callUnary(health, health.Check, { service: '' })).resolves.toEqual({ status: 'SERVING' });
    await expect(callUnary(health, health.Check, { service: 'blog.auth.v1.UserService' })).resolves.toEqual({
      status: 'SERVING',
    });
    await expect(callUnary(health, health.Check, { service: 'nope' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    server.setServing(false);
    await expect(callUnary(health, health.Check, { service: '' })).resolves.toEqual({
      status: 'NOT_SERVING',
    });
    server.setServing(true);
  });
});
