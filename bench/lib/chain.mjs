// The ceiling every gateway benchmark prints beside its own figures: a bare chain of the same shape
// as the platform's hot path (an express gateway with http-proxy-middleware in front of an express
// handler doing one Redis INCR), each in its own process, measured in the same run.
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from './load.mjs';

const role = path.join(path.dirname(fileURLToPath(import.meta.url)), 'chain-role.mjs');

function start(...args) {
  const child = fork(role, args);
  const port = new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`bare chain ${args[0]} exited (${code})`)));
  });
  return { child, port };
}

/** Starts the two processes; `measure()` runs the load against them, `stop()` ends them. */
export async function startBareChain() {
  const upstream = start('upstream');
  const upstreamPort = await upstream.port;
  const gateway = start('gateway', `http://127.0.0.1:${upstreamPort}`);
  const gatewayPort = await gateway.port;
  return {
    pids: { gateway: gateway.child.pid, upstream: upstream.child.pid },
    measure: ({ seconds, concurrency, name = 'ceiling: bare chain, one Redis INCR' }) =>
      load({
        name,
        base: `http://127.0.0.1:${gatewayPort}`,
        seconds,
        concurrency,
        request: (i) => ({ method: 'GET', path: `/incr/${i}` }),
      }),
    stop() {
      gateway.child.kill();
      upstream.child.kill();
    },
  };
}
