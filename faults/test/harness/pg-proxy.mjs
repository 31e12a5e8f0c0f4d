// A TCP proxy in front of PostgreSQL that can make it unreachable: `cut()` destroys every open
// connection and refuses new ones (accepted, then destroyed at once) until `restore()`.
import net from 'node:net';

/**
 * @param {{ targetHost?: string, targetPort?: number }} [o]
 * @returns {Promise<{ port: number, cut: () => number, restore: () => void, isCut: () => boolean,
 *   open: () => number, close: () => Promise<void> }>}
 */
export async function startPgProxy({ targetHost = '127.0.0.1', targetPort = 5432 } = {}) {
  const pairs = new Set();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const destroyAll = () => {
    const n = pairs.size;
    for (const { client, upstream } of [...pairs]) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
    return n;
  };
  return {
    port: server.address().port,
    /** Unreachable from now on; returns how many open connections were destroyed. */
    cut: () => {
      cut = true;
      return destroyAll();
    },
    restore: () => {
      cut = false;
    },
    isCut: () => cut,
    open: () => pairs.size,
    close: async () => {
      cut = true;
      destroyAll();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
