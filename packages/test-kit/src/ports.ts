import net from 'node:net';

/**
 * A local port nothing listens on, so connecting is refused at once. Port 1 (tcpmux) is privileged
 * and never served on our machines. A "free" ephemeral port is no good for this: once released, a
 * server that another test starts in parallel may bind it, and the test then talks to that server.
 * Never start a server on it (tests run as root here could): every test that wants a refused
 * connection shares it, in every jest worker. A test that brings a server up later uses laterPort.
 */
export async function closedPort(): Promise<number> {
  return 1;
}

/** Ports laterPort picks from: below Linux's ephemeral range, so no outgoing connection takes them. */
const LATER_RANGE = { from: 20000, to: 32000 };
const handedOut = new Set<number>();

/**
 * A port nothing listens on now, for a test that starts a server on it later (a service that comes
 * back). Its own per test: random within LATER_RANGE, checked bindable, never handed out twice by one
 * process, so two jest workers meet on one only by a 1-in-12,000 chance.
 */
export async function laterPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = LATER_RANGE.from + Math.floor(Math.random() * (LATER_RANGE.to - LATER_RANGE.from));
    if (handedOut.has(port) || !(await canBind(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('no free port to hand out');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
