import { decideRotation, type RefreshTokenState } from './refresh-rotation';

const now = new Date('2026-06-01T12:00:00Z');
const live: RefreshTokenState = {
  expiresAt: new Date('2026-06-30T00:00:00Z'),
  usedAt: null,
  revokedAt: null,
  sessionRevokedAt: null,
  userActive: true,
};

describe('refresh token rotation rule', () => {
  it('rotates a live, unused token', () => {
    expect(decideRotation(live, now)).toBe('rotate');
  });

  it('treats an unknown token as not found', () => {
    expect(decideRotation(undefined, now)).toBe('not_found');
  });

  it('detects reuse of an already exchanged token', () => {
    expect(decideRotation({ ...live, usedAt: new Date('2026-06-01T11:00:00Z') }, now)).toBe('reuse');
  });

  it('detects reuse even after the reused token expired', () => {
    expect(
      decideRotation(
        { ...live, usedAt: new Date('2026-05-01T00:00:00Z'), expiresAt: new Date('2026-05-30T00:00:00Z') },
        now,
      ),
    ).toBe('reuse');
  });

  it('refuses an expired token, including one expiring this very instant', () => {
    expect(decideRotation({ ...live, expiresAt: new Date('2026-06-01T11:59:59Z') }, now)).toBe('expired');
    expect(decideRotation({ ...live, expiresAt: now }, now)).toBe('expired');
  });

  it('refuses every token of a revoked session without re-revoking', () => {
    expect(decideRotation({ ...live, sessionRevokedAt: now }, now)).toBe('not_found');
    expect(decideRotation({ ...live, sessionRevokedAt: now, usedAt: now }, now)).toBe('not_found');
    expect(decideRotation({ ...live, revokedAt: now }, now)).toBe('not_found');
  });

  it('refuses tokens of a deactivated user', () => {
    expect(decideRotation({ ...live, userActive: false }, now)).toBe('not_found');
  });
});
