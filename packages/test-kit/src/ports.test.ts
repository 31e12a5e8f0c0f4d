import net from 'node:net';
import { closedPort, laterPort } from './ports';

describe('closedPort', () => {
  it('names a port whose connections are refused', async () => {
    const port = await closedPort();
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', resolve);
      socket.on('connect', () => {
        socket.destroy();
        resolve(Object.assign(new Error('connected'), { code: 'CONNECTED' }));
      });
    });
    expect(error.code).toBe('ECONNREFUSED');
  });
});

describe('laterPort', () => {
  it('hands out distinct ports nothing listens on, outside closedPort and the ephemeral range', async () => {
    const ports = await Promise.all(Array.from({ length: 30 }, () => laterPort()));
    expect(new Set(ports).size).toBe(30);
    expect(ports.filter((p) => p === 1 || p >= 32768)).toEqual([]);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(ports[0], '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
