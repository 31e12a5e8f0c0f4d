/** What the store knows about a presented refresh token, read under a row lock. */
export interface RefreshTokenState {
  expiresAt: Date;
  /** Set once the token was exchanged for a new one. */
  usedAt: Date | null;
  revokedAt: Date | null;
  sessionRevokedAt: Date | null;
  userActive: boolean;
}

export type RotationDecision = 'rotate' | 'reuse' | 'expired' | 'not_found';

/**
 * The rotation rule. A token already exchanged means two parties hold the family: the session is
 * revoked whatever the token's age, so a stolen token is useless to both the thief and the victim.
 */
export function decideRotation(state: RefreshTokenState | undefined, now: Date): RotationDecision {
  if (!state) return 'not_found';
  if (state.sessionRevokedAt || state.revokedAt) return 'not_found';
  if (state.usedAt) return 'reuse';
  if (state.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (!state.userActive) return 'not_found';
  return 'rotate';
}
