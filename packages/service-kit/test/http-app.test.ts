import request from 'supertest';
import Joi from 'joi';
import { createLogger } from '@mpb/logger';
import { notFound } from '@mpb/errors';
import { createHttpApp, createMetrics, degradedOnFailure, traceContextOf, validate } from '../src';

const logger = createLogger({ service: 'kit-test', level: 'silent' });

function app(readiness = {}) {
  return createHttpApp({
    service: 'kit-test',
    logger,
    metrics: createMetrics('kit-test'),
    readiness,
    bodyLimit: '1kb',
    routes: (a) => {
      a.post('/echo', (req, res) => {
        res.json(validate(Joi.object({ name: Joi.string().min(2).required() }), req.body));
      });
      a.get('/missing', () => {
        throw notFound('post not found');
      });
      a.get('/boom', async () => {
        throw new Error(
          'connect ECONNREFUSED 10.0.0.1:5432 at Pool.connect (/app/node_modules/pg/lib/index.js:1)',
        );
      });
    },
  });
}

describe('service http app', () => {
  it('answers /livez', async () => {
    const res = await request(app()).get('/livez');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });

  it('reports 503 on /readyz naming the failing dependency', async () => {
    const res = await request(
      app({ db: async () => undefined, kafka: async () => Promise.reject(new Error('broker down')) }),
    ).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.checks).toEqual({ db: 'ok', kafka: 'broker down' });
  });

  it('answers 200 degraded on /readyz when only a check marked degradable fails', async () => {
    const res = await request(
      app({
        db: async () => undefined,
        kafka: degradedOnFailure(async () => Promise.reject(new Error('broker down'))),
      }),
    ).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'degraded',
      checks: { db: 'ok', kafka: 'degraded: broker down' },
    });
  });

  it('exposes Prometheus metrics including HTTP durations', async () => {
    const a = app();
    await request(a).get('/missing');
    const res = await request(a).get('/metrics');
    expect(res.text).toContain('http_request_duration_seconds_bucket');
    expect(res.text).toContain('process_cpu_user_seconds_total');
  });

  it('echoes a valid request id and generates one otherwise', async () => {
    const given = await request(app()).get('/livez').set('X-Request-Id', 'abc-123');
    expect(given.headers['x-request-id']).toBe('abc-123');
    const bad = await request(app()).get('/livez').set('X-Request-Id', 'evil id{}<script>');
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers malformed JSON with the old message', async () => {
    const res = await request(app()).post('/echo').set('Content-Type', 'application/json').send('{"name":');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid request body', code: 'BAD_REQUEST' });
  });

  it('answers a body over the limit with 413', async () => {
    const res = await request(app())
      .post('/echo')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ name: 'x'.repeat(2000) }));
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      error: 'request body too large (at most 1kb)',
    });
  });

  it('limits a service that sets no limit to 16kb', async () => {
    const bare = createHttpApp({
      service: 'kit-default',
      logger,
      metrics: createMetrics('kit-default'),
      routes: (a) => a.post('/echo', (req, res) => res.json({ size: JSON.stringify(req.body).length })),
    });
    const send = (n: number) =>
      request(bare)
        .post('/echo')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ name: 'x'.repeat(n) }));
    expect((await send(16 * 1024 - 20)).status).toBe(200);
    const over = await send(16 * 1024);
    expect(over.status).toBe(413);
    expect(over.body.error).toBe('request body too large (at most 16kb)');
  });

  it('refuses a body with too many members or too deep nesting, before parsing it, with 400', async () => {
    const parsed: unknown[] = [];
    const wide = createHttpApp({
      service: 'kit-shape',
      logger,
      metrics: createMetrics('kit-shape'),
      bodyLimit: '64kb',
      routes: (a) =>
        a.post('/echo', (req, res) => {
          parsed.push(req.body);
          res.json({ ok: true });
        }),
    });
    const post = (raw: string) =>
      request(wide).post('/echo').set('Content-Type', 'application/json').send(raw);
    const keys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',')}}`;
    const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

    expect((await post(keys(1000))).status).toBe(200);
    const tooWide = await post(keys(1001));
    expect(tooWide.status).toBe(400);
    expect(tooWide.body).toMatchObject({
      code: 'BAD_REQUEST',
      error: 'request body has too many fields (at most 1000)',
    });
    const tooLong = await post(`[${Array.from({ length: 1001 }, () => '1').join(',')}]`);
    expect(tooLong.body.error).toBe('request body has too many fields (at most 1000)');

    expect((await post(nested(16))).status).toBe(200);
    const tooDeep = await post(nested(17));
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.error).toBe('request body nests too deeply (at most 16 levels)');
    const deepObjects = await post(`${'{"a":'.repeat(17)}1${'}'.repeat(17)}`);
    expect(deepObjects.body.error).toBe('request body nests too deeply (at most 16 levels)');

    // Brackets, commas and escaped quotes inside strings are text, not structure.
    const text = `{"name":"${'[{,\\"'.repeat(3000)}"}`;
    expect((await post(text)).status).toBe(200);
    expect(parsed).toHaveLength(3);
  });

  it('answers a validation failure with 400 naming the field, and strips unknown keys', async () => {
    const bad = await request(app()).post('/echo').send({ name: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('name');
    const ok = await request(app()).post('/echo').send({ name: 'ann', id: 5 });
    expect(ok.body).toEqual({ name: 'ann' });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await request(app()).get('/nope');
    expect(res.status).toBe(404);
    expect(res.body.error).toContain('route not found');
  });

  it('hides internal errors behind a generic 500 without stack or address', async () => {
    const res = await request(app()).get('/boom');
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('internal server error');
    expect(res.text).not.toMatch(/ECONNREFUSED|node_modules|at /);
  });

  it('logs one access line per request and names the request id on every line of the request', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const captured = createLogger({
      service: 'kit-test',
      level: 'info',
      destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    });
    const logged = createHttpApp({
      service: 'kit-test',
      logger: captured,
      metrics: createMetrics('kit-test'),
      routes: (a) => {
        a.get('/noted', (_req, res) => {
          res.locals.log.info({ password: 'hunter2' }, 'noted');
          res.json({ ok: true });
        });
      },
    });
    const noted = await request(logged)
      .get('/noted')
      .set('X-Request-Id', 'req-1')
      .set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    await request(logged).get('/livez');
    expect(noted.headers['x-trace-id']).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(lines).toEqual([
      expect.objectContaining({
        request_id: 'req-1',
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        password: '[redacted]',
        msg: 'noted',
      }),
      expect.objectContaining({
        request_id: 'req-1',
        method: 'GET',
        path: '/noted',
        status: 200,
        level: 'info',
        msg: 'request',
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      }),
    ]);
  });

  it('serves each request in a span of its own that its events and calls continue', async () => {
    let carried: ReturnType<typeof traceContextOf> = {};
    const traced = createHttpApp({
      service: 'kit-test',
      logger: createLogger({ service: 'kit-test', level: 'silent' }),
      metrics: createMetrics('kit-test'),
      routes: (a) => {
        a.post('/things', async (req, res) => {
          await new Promise((r) => setTimeout(r, 5));
          carried = traceContextOf(req);
          res.status(201).json({});
        });
      },
    });
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await request(traced).post('/things').set('traceparent', incoming);
    // The same trace, but as this service's span: a consumer of the event is its child.
    expect(carried.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(carried.traceparent).not.toBe(incoming);
    const fresh = await request(traced).post('/things').set('traceparent', 'not-a-traceparent');
    expect(fresh.headers['x-trace-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(carried.traceparent).toContain(fresh.headers['x-trace-id']);
  });
});
