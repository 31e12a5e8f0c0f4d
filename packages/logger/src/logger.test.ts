import { Writable } from 'node:stream';
import { contextFrom, initTracing, withContext, withRequestId } from '@mpb/telemetry';
import { createLogger } from './index';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  it('writes JSON lines with the service name', () => {
    const { lines, destination } = capture();
    createLogger({ service: 'auth', destination }).info({ request_id: 'r1' }, 'hello');
    expect(lines[0]).toMatchObject({ service: 'auth', request_id: 'r1', msg: 'hello', level: 'info' });
  });

  it('redacts passwords, tokens and authorization headers', () => {
    const { lines, destination } = capture();
    createLogger({ service: 'auth', destination }).info(
      {
        password: 'hunter22',
        body: { refresh_token: 'rt-secret', user: { password_hash: '$2b$10$abc' } },
        req: { headers: { authorization: 'Bearer abc.def.ghi', 'x-request-id': 'r2' } },
      },
      'login',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['hunter22', 'rt-secret', '$2b$10$abc', 'abc.def.ghi'])
      expect(text).not.toContain(secret);
    expect(text).toContain('r2');
  });

  it('names the request and trace of the active context on every line, and nothing outside one', () => {
    initTracing({ service: 'posts' }); // as every service does at start-up
    const { lines, destination } = capture();
    const logger = createLogger({ service: 'posts', destination });
    const ctx = withRequestId(
      contextFrom({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }),
      'req-7',
    );
    withContext(ctx, () => logger.child({ component: 'db' }).warn('slow query'));
    logger.info('started');
    expect(lines[0]).toMatchObject({
      request_id: 'req-7',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      component: 'db',
    });
    expect(lines[1]).not.toHaveProperty('trace_id');
    expect(lines[1]).not.toHaveProperty('request_id');
  });
});
