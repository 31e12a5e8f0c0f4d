import { revokedSessionKey } from '@mpb/contracts';
import { sessionRevocationCheck } from '../src';

describe('sessionRevocationCheck', () => {
  const revoked = new Set([revokedSessionKey('s-revoked')]);
  const isRevoked = sessionRevocationCheck(async (key) => (revoked.has(key) ? 1 : 0));

  it('reports a session auth marked as revoked, and only that one', async () => {
    await expect(isRevoked('s-revoked')).resolves.toBe(true);
    await expect(isRevoked('s-live')).resolves.toBe(false);
  });

  it('lets a Redis failure through, so the verifier refuses rather than guesses', async () => {
    const failing = sessionRevocationCheck(async () => Promise.reject(new Error('redis down')));
    await expect(failing('s-1')).rejects.toThrow('redis down');
  });
});
