import { randomBytes } from 'node:crypto';

export const gatewayUrl = (): string => {
  const url = process.env.E2E_GATEWAY_URL;
  if (!url)
    throw new Error('E2E_GATEWAY_URL is not set: run through `npm test` (global setup starts the platform)');
  return url;
};

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- responses are checked field by field
  text: string;
}

export interface ApiOptions {
  token?: string;
  body?: unknown;
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

export async function api(method: string, path: string, o: ApiOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  let body: string | Buffer | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['content-type'] ??= 'application/json';
  }
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(`${gatewayUrl()}${path}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(20000),
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** A topic as the platform under test names it on the broker (its KAFKA_TOPIC_PREFIX first). */
export const platformTopic = (topic: string): string => `${process.env.E2E_KAFKA_TOPIC_PREFIX ?? ''}${topic}`;

export const uniq = (prefix = 'u'): string => `${prefix}${randomBytes(5).toString('hex')}`;

export interface TestUser {
  id: number;
  username: string;
  email: string;
  password: string;
  token: string;
  refreshToken: string;
}

/** Registers and logs in a fresh user through the gateway. */
export async function newUser(overrides: Partial<{ name: string; age: number }> = {}): Promise<TestUser> {
  const username = uniq('user_');
  const email = `${username}@example.test`;
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const reg = await api('POST', '/api/auth/register', {
    body: { name: overrides.name ?? 'Test User', username, email, password, age: overrides.age },
  });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${reg.text}`);
  const login = await api('POST', '/api/auth/login', { body: { username, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return {
    id: login.body.user.id,
    username,
    email,
    password,
    token: login.body.token,
    refreshToken: login.body.refresh_token,
  };
}

/** The platform's services by name, with the ports they listen on (global setup starts them). */
export type ServiceName = 'auth' | 'posts' | 'comments' | 'metrics' | 'attachments';

export function servicePorts(): Partial<Record<ServiceName | 'gateway', { http: number; grpc?: number }>> {
  const raw = process.env.E2E_SERVICE_PORTS;
  if (!raw) throw new Error('E2E_SERVICE_PORTS is not set: the services run behind a deployment under test');
  return JSON.parse(raw);
}

/** A service's own HTTP address, bypassing the gateway. */
export function serviceUrl(name: ServiceName): string {
  const port = servicePorts()[name]?.http;
  if (!port) throw new Error(`service ${name} is not running in this e2e platform`);
  return `http://127.0.0.1:${port}`;
}

/** As `api`, against any base URL (a service's own port, a second gateway). */
export async function apiAt(
  base: string,
  method: string,
  path: string,
  o: ApiOptions = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  let body: string | Buffer | undefined = o.raw;
  if (body === undefined && o.body !== undefined) body = JSON.stringify(o.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(20000) });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/**
 * A request whose path goes out byte for byte (fetch would resolve `..` and `%2e%2e` segments
 * before sending), for path-traversal probes.
 */
export async function rawRequest(
  base: string,
  method: string,
  rawPath: string,
  o: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<ApiResponse> {
  const { request } = await import('node:http');
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path: rawPath, headers: o.headers, timeout: 20000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = undefined;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
          }
          resolve({ status: res.statusCode ?? 0, headers, body: parsed, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${rawPath}`)));
    req.on('error', reject);
    req.end(o.body);
  });
}
