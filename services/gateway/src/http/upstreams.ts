import http from 'node:http';
import https from 'node:https';
import type { UpstreamName } from './routes';

export interface Upstream {
  name: UpstreamName;
  url: string;
  /** Keep-alive pool: a request reuses a warm connection instead of a TCP handshake per request. */
  agent: http.Agent;
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
    upstreams.set(name, { name, url: url.replace(/\/+$/, ''), agent });
  }
  return upstreams;
}

export function closeUpstreams(upstreams: Map<UpstreamName, Upstream>): void {
  for (const u of upstreams.values()) u.agent.destroy();
}
