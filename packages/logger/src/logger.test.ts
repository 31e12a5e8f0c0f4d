import { Writable } from 'node:stream';
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
});
