import type { Redis } from 'ioredis';
import { revokedSessionKey } from '@mpb/contracts';

/**
 * Whether auth has revoked the session (logout, refresh-token reuse). auth sets the key for one
 * access-token lifetime; when Redis cannot answer, the verifier answers 503 rather than guessing.
 */
export function sessionRevocationCheck(redis: Redis): (sessionId: string) => Promise<boolean> {
  return async (sessionId) => (await redis.exists(revokedSessionKey(sessionId))) === 1;
}
