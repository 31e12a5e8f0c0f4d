import type { RequestHandler } from 'express';
import { runReadiness, type ReadinessCheck } from '@mpb/service-kit';
import type { Upstream } from './upstreams';

export interface HealthOptions {
  upstreams: Upstream[];
  /** The gateway's own dependency, reported beside the services. */
  redisPing: ReadinessCheck;
  timeoutMs: number;
  /** How long one result is reused (0: every call checks). */
  cacheMs: number;
}

interface HealthReport {
  status: number;
  body: Record<string, unknown>;
}

/** An upstream is healthy when its own /readyz says so: its dependencies are reachable too. */
function upstreamReady(u: Upstream, timeoutMs: number): ReadinessCheck {
  return async () => {
    let res: Response;
    try {
      res = await fetch(`${u.url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    } catch {
      throw new Error('unreachable');
    }
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`not ready (${res.status})`);
  };
}

/**
 * GET /health: every routed service's /readyz and Redis, in parallel, each bounded. 200 when all
 * answer, else 503 naming the failing ones. The platform's start script waits on this.
 *
 * The route is public and each check costs the services database, Kafka and S3 round trips, so
 * the checks run at most once per `cacheMs` whatever the number of callers: calls during a check
 * share it (single flight), calls after it reuse its result until it is `cacheMs` old.
 */
export function health(o: HealthOptions): RequestHandler {
  const checks: Record<string, ReadinessCheck> = {};
  for (const u of o.upstreams) checks[u.name] = upstreamReady(u, o.timeoutMs);
  const check = async (): Promise<HealthReport> => {
    const [services, own] = await Promise.all([
      runReadiness(checks, o.timeoutMs),
      runReadiness({ redis: o.redisPing }, o.timeoutMs),
    ]);
    const ok = services.ok && own.ok;
    const failing = [...Object.entries(services.checks), ...Object.entries(own.checks)]
      .filter(([, v]) => v !== 'ok')
      .map(([k]) => k)
      .sort(); // checks finish in any order; the answer should not
    return {
      status: ok ? 200 : 503,
      body: {
        status: ok ? 'ok' : 'unavailable',
        services: services.checks,
        redis: own.checks.redis,
        ...(ok ? {} : { failing }),
      },
    };
  };
  let inFlight: Promise<HealthReport> | undefined;
  let last: { report: HealthReport; at: number } | undefined;
  const current = (): Promise<HealthReport> => {
    if (last && Date.now() - last.at < o.cacheMs) return Promise.resolve(last.report);
    inFlight ??= check().then((report) => {
      last = { report, at: Date.now() };
      inFlight = undefined;
      return report;
    });
    return inFlight;
  };
  return async (_req, res) => {
    const report = await current();
    res.set('cache-control', 'no-store').status(report.status).json(report.body);
  };
}
