import http from 'node:http';
import express from 'express';
import { listen, type HttpServerHandle } from '../src';

interface Answer {
  status: number;
  connection?: string;
  body: string;
}

function get(port: number, agent: http.Agent, onWritten?: () => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/work', agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // 'finish': the request is written to the socket, before the server has read it.
    if (onWritten) req.once('finish', onWritten);
  });
}

function app(delayMs = 0) {
  const a = express();
  a.get('/work', (_req, res) => {
    setTimeout(() => res.json({ ok: true }), delayMs);
  });
  return a;
}

describe('closing an HTTP server with keep-alive clients', () => {
  let handle: HttpServerHandle | undefined;
  const agents: http.Agent[] = [];
  const keepAlive = () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    agents.push(agent);
    return agent;
  };

  afterEach(async () => {
    for (const a of agents.splice(0)) a.destroy();
    handle?.server.closeAllConnections();
    await handle?.close();
    handle = undefined;
  });

  it('answers a request sent on an idle connection at the moment the server closes', async () => {
    handle = await listen(app(), 0);
    const agent = keepAlive();
    expect((await get(handle.port, agent)).connection).toBe('keep-alive');

    const h = handle;
    let closed: Promise<void> | undefined;
    const answer = await get(h.port, agent, () => (closed = h.close()));
    expect(answer).toEqual({ status: 200, connection: 'close', body: '{"ok":true}' });
    await closed;
  });

  it('resets no request of clients sending back to back while it closes, and then finishes', async () => {
    handle = await listen(app(2), 0);
    const port = handle.port;
    const answers: Answer[] = [];
    const errors: string[] = [];
    let closed: Promise<void> | undefined;
    let sent = 0;
    const h = handle;
    const client = async (agent: http.Agent) => {
      for (;;) {
        sent += 1;
        // The 40th request closes the server as soon as it is written, with the others mid-flight.
        const closeNow = sent === 40 ? () => (closed = h.close()) : undefined;
        try {
          answers.push(await get(port, agent, closeNow));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          // Refused: a new connection after the listening socket closed; the request was never sent.
          if (code !== 'ECONNREFUSED') errors.push(`${code}: ${(err as Error).message}`);
          return;
        }
      }
    };
    const started = Date.now();
    await Promise.all([keepAlive(), keepAlive(), keepAlive()].flatMap((a) => [client(a), client(a)]));
    await closed;
    expect(errors).toEqual([]);
    expect(answers.length).toBeGreaterThanOrEqual(40);
    expect(answers.every((a) => a.status === 200 && a.body === '{"ok":true}')).toBe(true);
    expect(answers.filter((a) => a.connection === 'close').length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('closes a connection left idle once the grace has passed, and at once with no connections', async () => {
    handle = await listen(app(), 0, '127.0.0.1', { shutdownIdleGraceMs: 300 });
    const agent = keepAlive();
    await get(handle.port, agent);
    let started = Date.now();
    await handle.close();
    const idleClosedAfter = Date.now() - started;
    expect(idleClosedAfter).toBeGreaterThanOrEqual(250);
    expect(idleClosedAfter).toBeLessThan(1000);

    handle = await listen(app(), 0);
    started = Date.now();
    await handle.close();
    expect(Date.now() - started).toBeLessThan(100);
    // Closing twice waits for the same close.
    await handle.close();
  });
});
