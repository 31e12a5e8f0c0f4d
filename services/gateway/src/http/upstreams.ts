import { lookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { UpstreamName } from './routes';

export interface Upstream {
  name: UpstreamName;
  url: string;
  /** Keep-alive pool: a request reuses a warm connection instead of a TCP handshake per request. */
  agent: http.Agent;
  /** Where the next request goes: `url`, or `url` at the next of the host name's addresses. */
  pick(): string;
}

type Resolve = (host: string, done: (err: Error | null, addresses: LookupAddress[]) => void) => void;

const resolveAll: Resolve = (host, done) => lookup(host, { all: true }, done);

/** How long resolved addresses are used before the host name is resolved again. */
export const RESOLVE_EVERY_MS = 5_000;

/**
 * Spreads requests over every address the upstream's host name resolves to (a compose service or
 * a headless Kubernetes Service with several replicas). A keep-alive pool alone would not: it
 * keeps reusing the one connection it opened to whichever address came first. Each address gets
 * its own warm connections in the same agent (pools are kept per host and port). The name is
 * resolved again at most every RESOLVE_EVERY_MS, in the background, so replicas that come or go
 * are seen within seconds; with one address (or an IP, or localhost) `url` is used as it is.
 */
export function addressPicker(url: string, resolve: Resolve = resolveAll, now = Date.now): () => string {
  const base = new URL(url);
  const host = base.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) || host === 'localhost') return () => url;
  let targets: string[] = [];
  let turn = 0;
  let resolvedAt = -Infinity;
  let resolving = false;
  const refresh = () => {
    resolving = true;
    resolve(host, (err, addresses) => {
      resolving = false;
      resolvedAt = now();
      // On a failed lookup the name itself is used: the connection then fails with a clear code.
      const unique = err
        ? []
        : [...new Set(addresses.map((a) => (a.family === 6 ? `[${a.address}]` : a.address)))];
      targets = unique.sort().map((address) => {
        const t = new URL(base);
        t.hostname = address;
        return t.toString().replace(/\/+$/, '');
      });
    });
  };
  return () => {
    if (!resolving && now() - resolvedAt >= RESOLVE_EVERY_MS) refresh();
    if (targets.length < 2) return url;
    turn = (turn + 1) % targets.length;
    return targets[turn]!;
  };
}

export interface UpstreamOptions {
  maxSockets: number;
}

/** One keep-alive agent per upstream, so one slow service cannot take the others' connections. */
export function createUpstreams(
  urls: Partial<Record<UpstreamName, string>>,
  o: UpstreamOptions,
): Map<UpstreamName, Upstream> {
  const upstreams = new Map<UpstreamName, Upstream>();
  for (const [name, url] of Object.entries(urls) as Array<[UpstreamName, string | undefined]>) {
    if (!url) continue;
    const Agent = new URL(url).protocol === 'https:' ? https.Agent : http.Agent;
    // Idle sockets are dropped after 30 s, well before the services' 65 s keep-alive timeout, so the
    // gateway never reuses a connection the service is closing at that moment. A service shutting
    // down closes idle ones sooner; createUpstreamProxy retries a request that meets such a close.
    const agent = new Agent({
      keepAlive: true,
      timeout: 30_000,
      maxSockets: o.maxSockets,
      maxFreeSockets: Math.min(o.maxSockets, 64),
      scheduling: 'lifo',
    });
    const trimmed = url.replace(/\/+$/, '');
    upstreams.set(name, { name, url: trimmed, agent, pick: addressPicker(trimmed) });
  }
  return upstreams;
}

export function closeUpstreams(upstreams: Map<UpstreamName, Upstream>): void {
  for (const u of upstreams.values()) u.agent.destroy();
}
