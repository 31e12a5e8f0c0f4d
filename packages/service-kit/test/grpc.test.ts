import { createServer, type AddressInfo } from 'node:net';
import type { Client, ServerUnaryCall } from '@grpc/grpc-js';
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
import { callUnary, createGrpcClient, createMetrics, GrpcServer, traceContextOfCall } from '../src';
import type { TraceContext } from '@mpb/contracts';

const logger = createLogger({ service: 'kit-test', level: 'silent' });
initTracing({ service: 'kit-test' });
const seenIds: Array<ReturnType<typeof activeTraceIds>> = [];
const carried: TraceContext[] = [];

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
      GetUsers: async (_req: unknown, call: ServerUnaryCall<unknown, unknown>) => {
        carried.push(traceContextOfCall(call));
        return { users: [] };
      },
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

  it("hands the call's own span, child of the caller's, to the events a handler causes", async () => {
    const caller = contextFrom({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
    carried.length = 0;
    await withContext(caller, () => callUnary(users, users.GetUsers, { ids: [] }));
    expect(carried[0]).toEqual({
      traceparent: expect.stringMatching(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/),
    });
    expect(carried[0]!.traceparent).not.toContain('00f067aa0ba902b7');
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

  it('streams status changes to a health Watch, for the server and for a named service', async () => {
    const seen = (service: string) => {
      const statuses: string[] = [];
      const stream = health.Watch({ service });
      stream.on('data', (r: { status: string }) => statuses.push(r.status));
      stream.on('error', () => undefined);
      return { statuses, stream };
    };
    const whole = seen('');
    const named = seen('blog.auth.v1.UserService');
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 100 && !check(); i += 1) await new Promise((r) => setTimeout(r, 10));
    };
    await until(() => whole.statuses.length > 0 && named.statuses.length > 0);
    server.setServing(false);
    await until(() => whole.statuses.length > 1 && named.statuses.length > 1);
    server.setServing(true);
    await until(() => whole.statuses.length > 2 && named.statuses.length > 2);
    whole.stream.cancel();
    named.stream.cancel();
    expect(whole.statuses).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);
    expect(named.statuses).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);
  });
});

describe('gRPC server shutdown', () => {
  it('ends open health Watch streams, so a graceful close is not held until it is forced', async () => {
    const server = new GrpcServer({ logger, metrics: createMetrics('kit-test-close') });
    const port = await server.listen(0);
    const health = createGrpcClient(loadHealthProto().grpc.health.v1.Health, `127.0.0.1:${port}`);
    const statuses: string[] = [];
    const stream = health.Watch({ service: '' });
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('error', () => resolve());
    });
    stream.on('data', (r: { status: string }) => statuses.push(r.status));
    for (let i = 0; i < 100 && statuses.length === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    await server.close(5000);
    await ended;
    (health as unknown as Client).close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
  });
});

describe('gRPC client options', () => {
  it('keep trying a peer that is away at least once a second, however long it has been away', async () => {
    // A peer that accepts and drops every connection: each attempt of the client shows up here.
    const attempts: number[] = [];
    const peer = createServer((socket) => {
      attempts.push(Date.now());
      socket.destroy();
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    const { port } = peer.address() as AddressInfo;
    const client = createGrpcClient(loadAuthProto().blog.auth.v1.UserService, `127.0.0.1:${port}`);
    const started = Date.now();
    try {
      while (Date.now() - started < 9000) {
        await callUnary(client, client.GetUser, { id: 1 }, { deadlineMs: 100 }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      (client as unknown as Client).close();
      await new Promise((resolve) => peer.close(resolve));
    }
    // After 4 s the backoff has grown to its cap: 1 s plus 20 % jitter (grpc-js's default grows to
    // 120 s; a cap of several seconds would leave gaps of that size here).
    const late = attempts.filter((t) => t - started >= 4000);
    const gaps = late.slice(1).map((t, i) => t - late[i]!);
    expect(late.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...gaps)).toBeLessThan(1600);
  }, 20_000);
});
