import { contractViolations, type EventEnvelope } from '@mpb/contracts';
import { createLogger } from '@mpb/logger';
import { AccessTokenIssuer } from './access-tokens';
import { AuthService, Messages } from './auth-service';
import type { PasswordHasher } from './password';
import type { RotationResult, SessionStore, UserStore } from './ports';
import { generateSigningKeyPem, signingKeyFromPem } from './signing-keys';
import { hashRefreshToken, newRefreshToken } from './tokens';
import type { User } from './user';

const key = signingKeyFromPem(generateSigningKeyPem());
const user: User = {
  id: 5,
  name: 'Ann',
  username: 'ann',
  email: 'a@x.io',
  age: 30,
  isActive: true,
  createdAt: new Date(),
};

function setup(o: { rotation?: RotationResult; found?: boolean } = {}) {
  const calls = {
    verify: 0,
    dummy: 0,
    revoked: [] as string[],
    presented: [] as string[],
    events: [] as EventEnvelope<unknown>[],
  };
  const users: UserStore = {
    existsByUsernameOrEmail: async (username) => username === 'taken',
    createWithEvent: async (_u, event) => {
      calls.events.push(event(user));
      return user;
    },
    findForLogin: async () => (o.found === false ? undefined : { user, passwordHash: 'hash' }),
    findActiveById: async (id) => (id === user.id ? user : undefined),
    findActiveByIds: async () => [user],
  };
  const sessions: SessionStore = {
    create: async () => ({ sessionId: 'sess-1' }),
    rotate: async (hash) => {
      calls.presented.push(hash);
      return o.rotation ?? { decision: 'not_found' };
    },
    revoke: async (sid) => {
      calls.revoked.push(sid);
    },
    isRevoked: async () => false,
    revokedAfter: async () => ({ entries: [], latestSeq: 0 }),
  };
  const passwords: PasswordHasher = {
    hash: async () => 'hash',
    verify: async (password) => {
      calls.verify += 1;
      return password === 'right-password';
    },
    verifyAgainstDummy: async () => {
      calls.dummy += 1;
      return false;
    },
  };
  const service = new AuthService({
    users,
    sessions,
    passwords,
    accessTokens: new AccessTokenIssuer(
      { signingKey: () => key, publicKeys: async () => [key.publicJwk] },
      { issuer: 'i', audience: 'a', ttlSeconds: 900 },
    ),
    refreshTtlSeconds: 60,
    logger: createLogger({ service: 'auth-test', level: 'silent' }),
  });
  return { service, calls };
}

describe('auth service rules', () => {
  it('spends a password check on unknown users too, and answers like a wrong password', async () => {
    const unknown = setup({ found: false });
    await expect(unknown.service.login({ username: 'ghost', password: 'whatever' })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: Messages.invalidCredentials,
    });
    expect(unknown.calls.dummy).toBe(1);
    const wrong = setup();
    await expect(wrong.service.login({ username: 'ann', password: 'wrong-password' })).rejects.toMatchObject({
      message: Messages.invalidCredentials,
    });
    expect(wrong.calls.verify).toBe(1);
  });

  it('rejects a taken username before hashing', async () => {
    const { service } = setup();
    await expect(
      service.register({ name: 'X', username: 'taken', email: 'x@y.z', password: 'secret' }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
      message: Messages.userExists,
    });
  });

  it('builds user.registered without e-mail or hash', async () => {
    const { service, calls } = setup();
    await service.register({ name: 'Ann', username: 'ann2', email: 'a@x.io', password: 'secret' });
    const [captured] = calls.events;
    expect(captured).toMatchObject({
      type: 'user.registered',
      aggregate_type: 'user',
      aggregate_id: '5',
      source: 'auth',
    });
    expect(JSON.stringify(captured)).not.toMatch(/a@x\.io|hash/);
    expect(contractViolations(captured!.type, captured!.payload)).toEqual([]);
  });

  it('looks refresh tokens up by hash and refuses malformed ones without a lookup', async () => {
    const { service, calls } = setup();
    await expect(service.refresh('not a token')).rejects.toMatchObject({
      message: Messages.invalidRefreshToken,
    });
    expect(calls.presented).toHaveLength(0);
    const token = newRefreshToken();
    await expect(service.refresh(token)).rejects.toMatchObject({ message: Messages.refreshTokenNotFound });
    expect(calls.presented).toEqual([hashRefreshToken(token)]);
  });

  it('refuses a reused refresh token (the store has revoked its session)', async () => {
    const { service } = setup({ rotation: { decision: 'reuse', sessionId: 'sess-9' } });
    await expect(service.refresh(newRefreshToken())).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: Messages.invalidRefreshToken,
    });
  });

  it("revokes the caller's session at logout", async () => {
    const { service, calls } = setup();
    await service.logout(5, 'sess-1');
    expect(calls.revoked).toEqual(['sess-1']);
  });
});
