import type { Redis } from 'ioredis';
import type { Counter } from 'prom-client';
import { rateLimited } from '@mpb/errors';
import { errorFields, type Logger } from '@mpb/logger';

export interface RateLimit {
  max: number;
  windowSeconds: number;
}

export const RATE_LIMITED = 'too many requests, try again later';

/**
 * Fixed window, one key per client and route: INCR, and the window's expiry set by the request
 * that opens it, in one atomic step so replicas racing on the same key count every request once.
 * A key left without expiry (never by this script) gets one instead of blocking forever.
 */
const SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;
const COMMAND = 'gatewayRateLimitHit';

type RedisWithRateLimit = Redis & { [COMMAND](key: string, windowMs: number): Promise<[number, number]> };

export interface RateLimiterOptions {
  redis: Redis;
  keyPrefix: string;
  logger: Logger;
  decisions: Counter<'route' | 'outcome'>;
  /** How often a Redis outage is logged at most; every request during one would flood the log. */
  warnEveryMs?: number;
}

export interface RateLimiter {
  /** Throws RATE_LIMITED (429 with Retry-After) when the client is over the limit. */
  hit(route: string, client: string, limit: RateLimit): Promise<void>;
}

/**
 * Shared across gateway replicas through Redis. When Redis fails the request goes through (fail
 * open) with a warning: a Redis outage must not lock every user out of signing in, and the
 * buckets only slow down password guessing, which auth's bcrypt cost already makes expensive.
 */
export function createRateLimiter(o: RateLimiterOptions): RateLimiter {
  const redis = o.redis as RedisWithRateLimit;
  if (typeof redis[COMMAND] !== 'function') redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: SCRIPT });
  const warnEveryMs = o.warnEveryMs ?? 10_000;
  let lastWarning = 0;

  return {
    async hit(route, client, limit) {
      let count: number;
      let ttlMs: number;
      try {
        [count, ttlMs] = await redis[COMMAND](`${o.keyPrefix}${route}:${client}`, limit.windowSeconds * 1000);
      } catch (err) {
        o.decisions.inc({ route, outcome: 'fail_open' });
        if (Date.now() - lastWarning >= warnEveryMs) {
          lastWarning = Date.now();
          o.logger.warn(
            { route, ...errorFields(err) },
            'rate limit store unavailable, letting requests through',
          );
        }
        return;
      }
      if (count > limit.max) {
        o.decisions.inc({ route, outcome: 'limited' });
        throw rateLimited(RATE_LIMITED, Math.max(1, Math.ceil(ttlMs / 1000)));
      }
      o.decisions.inc({ route, outcome: 'allowed' });
    },
  };
}
