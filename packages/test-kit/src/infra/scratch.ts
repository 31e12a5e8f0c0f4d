import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { getContainerRuntimeClient, Wait } from 'testcontainers';
import {
  imagesFromEnv,
  kafkaAnswers,
  kafkaCommand,
  kafkaEnvironment,
  KAFKA_LISTENER_FILE,
  KAFKA_WAIT_LINE,
  LoopbackContainer,
  redisPing,
} from './containers';
import { configureTestcontainers } from './engine';
import { runLabels } from './run-label';

/**
 * Servers a test breaks on purpose (kills, stops, starts again) apart from the run's shared ones:
 * the fault suite's broker and Redis, the session-revocation test's Redis. Each answers on one
 * 127.0.0.1 port for its whole life, as a process restarted on the same port would. In a container
 * run (MPB_INFRA_MODE=containers, set by cli.ts) they are containers behind a local forwarder: Docker
 * maps a container's port anew each time it starts, so the forwarder keeps the address and, while the
 * container is down, closes its port, so clients see connections refused as with a stopped process.
 */
export interface ScratchServer {
  /** The local port clients use, the same across restarts. */
  readonly port: number;
  /** SIGKILL: gone at once, with whatever it held in memory. */
  kill(): Promise<void>;
  /** SIGTERM, waiting until it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits until it answers. */
  start(): Promise<void>;
  /** Kills it and frees everything (container, forwarder). */
  close(): Promise<void>;
  /** The process id of a local server process (none for a container). */
  pid?: () => number | undefined;
}

export const inContainerRun = (env: NodeJS.ProcessEnv = process.env): boolean =>
  env.MPB_INFRA_MODE === 'containers';

/**
 * A local TCP port that forwards every connection to a target that may move. It listens from the
 * start (connections before the first target are closed at once), so nobody else takes its port;
 * `close()` stops listening, so clients are refused as by a stopped server, until `open()` again.
 */
export async function startForwarder(): Promise<{
  port: number;
  open(targetHost: string, targetPort: number): Promise<void>;
  close(): Promise<void>;
}> {
  let target: { host: string; port: number } | undefined;
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let bound = 0;
  const listen = async () => {
    const s = net.createServer((client) => {
      if (!target) {
        client.destroy();
        return;
      }
      const upstream = net.connect(target.port, target.host);
      for (const sock of [client, upstream]) {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        sock.on('error', () => undefined);
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(bound, '127.0.0.1', () => resolve());
    });
    bound = (s.address() as net.AddressInfo).port;
    server = s;
  };
  await listen();
  return {
    port: bound,
    open: async (host, p) => {
      target = { host, port: p };
      if (!server) await listen();
    },
    close: async () => {
      const s = server;
      server = undefined;
      for (const sock of sockets) sock.destroy();
      if (s) await new Promise((resolve) => s.close(resolve));
    },
  };
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, check: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`${what} not ready after ${timeoutMs} ms: ${(err as Error).message}`);
      await sleep(100);
    }
  }
}

/**
 * A container behind a forwarder: `ready` checks it through the forwarder's port. `build` makes the
 * container (its labels tie it to the run, so the run's end removes it even if a test leaks it).
 */
async function containerBehindForwarder(
  build: (labels: Record<string, string>) => LoopbackContainer,
  containerPort: number,
  ready: (port: number) => Promise<unknown>,
  afterFirstStart: (
    port: number,
    container: { copy: (content: string, target: string) => Promise<void> },
  ) => Promise<void> = async () => undefined,
  timeoutMs = 120_000,
): Promise<ScratchServer> {
  configureTestcontainers(process.env);
  const runId = process.env.MPB_INFRA_RUN_ID;
  const owner = Number(process.env.MPB_INFRA_RUN_PID);
  if (!runId || !owner)
    throw new Error(
      'a container run sets MPB_INFRA_RUN_ID and MPB_INFRA_RUN_PID (packages/test-kit/src/infra/cli.ts)',
    );
  const forwarder = await startForwarder();
  const started = await build(runLabels(runId, owner)).withExposedPorts(containerPort).start();
  const { dockerode } = (await getContainerRuntimeClient()).container;
  const container = dockerode.getContainer(started.getId());
  const mappedPort = async () => {
    const info = await container.inspect();
    const binding = info.NetworkSettings.Ports[`${containerPort}/tcp`]?.[0];
    if (!binding) throw new Error(`port ${containerPort} is not published`);
    return Number(binding.HostPort);
  };
  const up = async () => {
    await forwarder.open('127.0.0.1', await mappedPort());
    await waitUntil('scratch server', () => ready(forwarder.port), timeoutMs);
  };
  await afterFirstStart(forwarder.port, {
    copy: (content, target) => started.copyContentToContainer([{ content, target }]),
  });
  await up();
  const ignoreGone = (err: { statusCode?: number }) => {
    // 304 or 409: not running already; 404: removed already.
    if (![304, 404, 409].includes(err.statusCode ?? 0)) throw err;
  };
  return {
    port: forwarder.port,
    kill: async () => {
      await forwarder.close();
      await container.kill({ signal: 'SIGKILL' }).catch(ignoreGone);
      await container.wait({ condition: 'not-running' }).catch(ignoreGone);
    },
    stop: async () => {
      await forwarder.close();
      await container.stop({ t: 20 }).catch(ignoreGone);
    },
    start: async () => {
      await container.start().catch(ignoreGone);
      await up();
    },
    close: async () => {
      await forwarder.close();
      await container.remove({ force: true, v: true }).catch(ignoreGone);
    },
  };
}

/**
 * A Redis of the caller's own, in memory only: redis-server on a free port, or in a container run a
 * Redis container (MPB_REDIS_IMAGE, default the pinned image) behind a local port.
 */
export async function startScratchRedis(o: { dir: string; redisServer?: string }): Promise<ScratchServer> {
  if (inContainerRun()) {
    return containerBehindForwarder(
      (labels) =>
        new LoopbackContainer(imagesFromEnv(process.env).redis, configureTestcontainers(process.env).loopback)
          .withLabels(labels)
          .withCommand(['redis-server', '--save', '', '--appendonly', 'no']),
      6379,
      (port) => redisPing('127.0.0.1', port),
    );
  }
  const port = await freePort();
  let proc: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  const signal = async (sig: NodeJS.Signals) => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    await exited;
  };
  const start = async () => {
    const p = spawn(
      o.redisServer ?? process.env.REDIS_SERVER ?? 'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', o.dir],
      { stdio: 'ignore' },
    );
    proc = p;
    exited = new Promise((resolve) => p.once('exit', resolve));
    await waitUntil('redis-server', () => redisPing('127.0.0.1', port), 10_000);
  };
  await start();
  return {
    port,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
    start,
    close: () => signal('SIGKILL'),
    pid: () => proc?.pid,
  };
}

/**
 * A single-node KRaft broker of the caller's own in a container (MPB_KAFKA_IMAGE), advertising the
 * forwarder's address, so clients keep one address across stops and starts; its data lives in the
 * container and survives them.
 */
export async function startScratchKafka(): Promise<ScratchServer> {
  return containerBehindForwarder(
    (labels) =>
      new LoopbackContainer(imagesFromEnv(process.env).kafka, configureTestcontainers(process.env).loopback)
        .withLabels(labels)
        .withEnvironment(kafkaEnvironment())
        .withCommand(kafkaCommand)
        .withWaitStrategy(Wait.forLogMessage(KAFKA_WAIT_LINE)),
    9092,
    (port) => kafkaAnswers(`127.0.0.1:${port}`),
    (port, c) => c.copy(`PLAINTEXT://127.0.0.1:${port},BROKER://localhost:9094`, KAFKA_LISTENER_FILE),
    180_000,
  );
}
