import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { Kafka, logLevel } from 'kafkajs';
import { fetchTopicOffsets } from '@mpb/kafka';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through jest (the global setup starts the platform)`);
  return value;
};

export const gatewayUrl = (): string => env('FAULTS_GATEWAY_URL');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const uniq = (prefix: string): string => `${prefix}${randomBytes(5).toString('hex')}`;

/** Asks the harness (global setup) to break or repair a piece of the fault platform. */
export async function control(action: string, body?: unknown): Promise<Record<string, unknown>> {
  const [method, path] = action.split(' ') as [string, string];
  const res = await fetch(`${env('FAULTS_CONTROL_URL')}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`${action}: ${String(answer.error)}`);
  return answer;
}

/** The last log lines of the fault platform's services, for failure messages. */
export async function recentLogs(name?: string, n = 40): Promise<string> {
  const q = new URLSearchParams({ n: String(n), ...(name ? { name } : {}) });
  const { lines } = await control(`GET /logs?${q}`);
  return (lines as string[]).join('\n');
}

export interface ApiResponse {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- checked field by field
  headers: Headers;
}

/** One request through the gateway, outside the load (setup and checks); fails loudly on no answer. */
export async function api(method: string, path: string, o: { token?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${gatewayUrl()}${path}`, {
    method,
    headers,
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
    signal: AbortSignal.timeout(15000),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers } as ApiResponse;
}

export interface User {
  id: number;
  token: string;
}

/** A clear answer that the upstream was busy or away: a setup request may try again. */
const isClearBusy = (res: ApiResponse): boolean =>
  [502, 503, 504].includes(res.status) && typeof res.body?.error === 'string';

/**
 * A test's setup (its users and posts, before any fault) is not what it checks: on a saturated machine
 * auth's bcrypt can outlast the gateway's upstream timeout (a clear 504). Such an answer is tried again
 * a few times, each register with a fresh name (the timed-out one may have been created).
 */
async function setUpWithRetry(make: () => Promise<ApiResponse>, ok: number, what: string) {
  let res: ApiResponse | undefined;
  for (let attempt = 1; attempt <= 4; attempt++) {
    res = await make();
    if (res.status === ok || !isClearBusy(res)) break;
    await sleep(500 * attempt);
  }
  if (res!.status !== ok) throw new Error(`${what}: ${res!.status} ${JSON.stringify(res!.body)}`);
  return res!;
}

export async function newUser(): Promise<User> {
  const password = `pw-${randomBytes(6).toString('hex')}`;
  let username = '';
  await setUpWithRetry(
    () => {
      username = uniq('fault_');
      return api('POST', '/api/auth/register', {
        body: { name: 'Fault User', username, email: `${username}@example.test`, password },
      });
    },
    201,
    'register',
  );
  const login = await setUpWithRetry(
    () => api('POST', '/api/auth/login', { body: { username, password } }),
    200,
    'login',
  );
  return { id: login.body.user.id as number, token: login.body.token as string };
}

/** A post for a test's setup; clear busy answers are tried again (see setUpWithRetry). */
export async function setUpPost(user: User, title = 'Fault target'): Promise<number> {
  const res = await setUpWithRetry(
    () =>
      api('POST', '/api/posts', {
        token: user.token,
        body: { title, description: 'A post the fault tests read, like and comment under load.' },
      }),
    201,
    'create post',
  );
  return res.body.id as number;
}

export async function createPost(user: User, title = 'Fault target'): Promise<number> {
  const res = await api('POST', '/api/posts', {
    token: user.token,
    body: { title, description: 'A post the fault tests read, like and comment under load.' },
  });
  if (res.status !== 201) throw new Error(`create post: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as number;
}

/** Polls until `check` holds; returns false (never throws) when the time is up. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, everyMs = 300) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return true;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

const servicePorts = (): Record<string, { http: number }> => JSON.parse(env('FAULTS_SERVICE_PORTS'));

/** Every service's /readyz and the gateway's /health answer 200, and no service reports itself degraded. */
export async function allReady(): Promise<string[]> {
  const failing: string[] = [];
  await Promise.all(
    Object.entries(servicePorts()).map(async ([name, p]) => {
      const url = `http://127.0.0.1:${p.http}${name === 'gateway' ? '/health' : '/readyz'}`;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
        const text = await res.text();
        // A service stays ready (200) while Kafka is away, saying "degraded": not yet recovered.
        if (res.status !== 200 || /"status":"degraded"/.test(text))
          failing.push(`${name} ${res.status} ${text}`);
      } catch (err) {
        failing.push(`${name} ${(err as Error).message}`);
      }
    }),
  );
  return failing;
}

/** Waits until the whole platform is ready again; returns when it was (ms since `since`). */
export async function waitRecovered(since: number, timeoutMs = 60000): Promise<number> {
  let failing: string[] = [];
  const ok = await eventually(async () => (failing = await allReady()).length === 0, timeoutMs, 250);
  if (!ok)
    throw new Error(`not recovered after ${timeoutMs} ms: ${failing.join('; ')}\n${await recentLogs()}`);
  return Date.now() - since;
}

const dbs = new Map<string, Knex>();
/** A service's database (`mpb_<service>_faults`), straight to PostgreSQL, past the fault proxy. */
export function db(service: string): Knex {
  let k = dbs.get(service);
  if (!k) {
    k = knexFactory({
      client: 'pg',
      connection: `${env('FAULTS_PG_URL')}/mpb_${service}${env('FAULTS_DB_SUFFIX')}`,
      pool: { min: 0, max: 2 },
    });
    dbs.set(service, k);
  }
  return k;
}

export async function closeDbs(): Promise<void> {
  await Promise.all([...dbs.values()].map((k) => k.destroy()));
  dbs.clear();
}

/** Events of `topic` on the fault broker that a consumer group has not committed yet. */
export async function groupLag(groupId: string, topic: string): Promise<number> {
  const ends = await fetchTopicOffsets(kafka(), topic);
  const admin = kafka().admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return ends.reduce((lag, p) => {
      const c = Number(committed?.partitions.find((x) => x.partition === p.partition)?.offset ?? -1);
      return lag + Number(p.high) - Math.max(c, Number(p.low));
    }, 0);
  } finally {
    await admin.disconnect();
  }
}

let kafkaClient: Kafka | undefined;
export const kafka = (): Kafka =>
  (kafkaClient ??= new Kafka({
    clientId: 'mpb-faults',
    brokers: [env('FAULTS_KAFKA_BROKERS')],
    logLevel: logLevel.NOTHING,
  }));

/** The envelopes of `topic` on the fault broker, from its beginning (every copy, duplicates included). */
export async function readTopic(
  topic: string,
): Promise<Array<{ id: string; type: string; aggregate_id: string }>> {
  const ends = await fetchTopicOffsets(kafka(), topic);
  const total = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  const out: Array<{ id: string; type: string; aggregate_id: string }> = [];
  if (total === 0) return out;
  const consumer = kafka().consumer({ groupId: uniq('faults-reader-') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${out.length}/${total} of ${topic}`)), 20000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          out.push(JSON.parse(message.value!.toString()));
          if (out.length >= total) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
