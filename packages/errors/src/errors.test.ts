import { Metadata, status } from '@grpc/grpc-js';
import {
  AppError,
  conflict,
  fromGrpcError,
  notFound,
  rateLimited,
  renderGrpcError,
  renderHttpError,
} from './index';

describe('http rendering', () => {
  it('keeps the old {error} shape and adds a stable code and the request id', () => {
    const r = renderHttpError(notFound('post not found'), 'req-1');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: 'post not found', code: 'NOT_FOUND', request_id: 'req-1' });
  });

  it('never shows the message or cause of an unknown error', () => {
    const r = renderHttpError(new Error('relation "users" does not exist at /srv/app.js:12'));
    expect(r.status).toBe(500);
    expect(r.body.error).toBe('internal server error');
    expect(JSON.stringify(r.body)).not.toContain('relation');
  });

  it('sets Retry-After for rate limiting, rounded up to whole seconds', () => {
    const r = renderHttpError(rateLimited('too many requests', 1.2));
    expect(r.status).toBe(429);
    expect(r.headers['Retry-After']).toBe('2');
  });
});

describe('grpc rendering', () => {
  it('maps to real gRPC codes, not HTTP numbers', () => {
    expect(renderGrpcError(notFound('x')).code).toBe(status.NOT_FOUND);
    expect(renderGrpcError(conflict('x')).code).toBe(status.ALREADY_EXISTS);
    expect(renderGrpcError(new Error('boom')).code).toBe(status.INTERNAL);
  });

  it('round-trips code and message through a gRPC status', () => {
    const rendered = renderGrpcError(notFound('post not found'));
    const back = fromGrpcError({
      code: rendered.code,
      details: rendered.details,
      metadata: rendered.metadata,
    });
    expect(back).toBeInstanceOf(AppError);
    expect(back.code).toBe('NOT_FOUND');
    expect(back.message).toBe('post not found');
  });

  it('maps a bare status from a foreign server to the closest code', () => {
    const back = fromGrpcError({
      code: status.DEADLINE_EXCEEDED,
      details: 'Deadline exceeded',
      metadata: new Metadata(),
    });
    expect(back.code).toBe('TIMEOUT');
    const internal = fromGrpcError({
      code: status.INTERNAL,
      details: 'secret stack',
      metadata: new Metadata(),
    });
    expect(internal.publicMessage).toBe('internal server error');
  });
});

describe('errors from dependencies', () => {
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

  it('answers 503 when a dependency is out of reach, without its details', () => {
    for (const err of [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is starting up', '57P03'),
      withCode('canceling statement due to statement timeout', '57014'),
      new Error('Connection terminated unexpectedly'),
      new Error('Knex: Timeout acquiring a connection. The pool is probably full.'),
      new Error('query failed', { cause: withCode('read ECONNRESET', 'ECONNRESET') }),
    ]) {
      const rendered = renderHttpError(err);
      expect({ message: err.message, status: rendered.status }).toEqual({
        message: err.message,
        status: 503,
      });
      expect(rendered.body.error).toBe('service temporarily unavailable, try again later');
      expect(renderGrpcError(err).code).toBe(status.UNAVAILABLE);
    }
  });

  it('keeps every other unknown error a 500 that says nothing of it', () => {
    for (const err of [
      new Error('relation "posts" does not exist'),
      withCode('duplicate key', '23505'),
      'boom',
    ]) {
      const rendered = renderHttpError(err);
      expect(rendered.status).toBe(500);
      expect(rendered.body.error).toBe('internal server error');
    }
  });
});
