import { revokedSessionKey } from '@mpb/contracts';

/**
 * Whether auth has revoked the session (logout, refresh-token reuse): auth sets revokedSessionKey in
 * Redis for one access-token lifetime. Takes Redis's `exists`, so the kit needs no Redis client; when
 * Redis cannot answer, the verifier answers 503 rather than guessing.
 */
export function sessionRevocationCheck(
  exists: (key: string) => Promise<number>,
): (sessionId: string) => Promise<boolean> {
  return async (sessionId) => (await exists(revokedSessionKey(sessionId))) === 1;
}
