import net from 'node:net';
import { closedPort } from './ports';

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
