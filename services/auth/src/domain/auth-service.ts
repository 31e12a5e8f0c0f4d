import { createEnvelope, EventTypes, type TraceContext } from '@mpb/contracts';
import { conflict, notFound, unauthenticated } from '@mpb/errors';
import type { Logger } from '@mpb/logger';
import type { AccessTokenIssuer } from './access-tokens';
import type { PasswordHasher } from './password';
import type { SessionStore, UserStore } from './ports';
import { readRevocationPage, type RevocationPage } from './revocation-feed';
import { hashRefreshToken, isPlausibleRefreshToken, newRefreshToken } from './tokens';
import { userRegisteredPayload, type User } from './user';

/** A registration as the HTTP layer's body schema accepts it (trimmed, checked). */
export interface RegisterInput {
  name: string;
  username: string;
  email: string;
  password: string;
  age?: number | null;
}

/** A login as the HTTP layer's body schema accepts it. */
export interface LoginInput {
  username: string;
  password: string;
}

/** Texts of the old API, kept because clients match on them. */
export const Messages = {
  userExists: 'user already exists',
  invalidCredentials: 'invalid username or password',
  invalidRefreshToken: 'invalid refresh token',
  refreshTokenNotFound: 'refresh token not found or expired',
  userNotFound: 'user not found',
} as const;

export const SERVICE_NAME = 'auth';
export const USER_AGGREGATE = 'user';

export interface AuthServiceDeps {
  users: UserStore;
  sessions: SessionStore;
  passwords: PasswordHasher;
  accessTokens: AccessTokenIssuer;
  refreshTtlSeconds: number;
  logger: Logger;
  clock?: () => Date;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
}

export class AuthService {
  private readonly now: () => Date;

  constructor(private readonly d: AuthServiceDeps) {
    this.now = d.clock ?? (() => new Date());
  }

  async register(input: RegisterInput, trace: TraceContext = {}): Promise<User> {
    if (await this.d.users.existsByUsernameOrEmail(input.username, input.email))
      throw conflict(Messages.userExists);
    const passwordHash = await this.d.passwords.hash(input.password);
    return this.d.users.createWithEvent(
      {
        name: input.name,
        username: input.username,
        email: input.email,
        passwordHash,
        age: input.age ?? null,
      },
      (created) =>
        createEnvelope({
          type: EventTypes.UserRegistered,
          aggregateType: USER_AGGREGATE,
          aggregateId: created.id,
          payload: userRegisteredPayload(created),
          source: SERVICE_NAME,
          trace,
        }),
    );
  }

  async login(input: LoginInput): Promise<IssuedTokens & { user: User }> {
    const found = await this.d.users.findForLogin(input.username);
    const valid =
      found && found.user.isActive
        ? await this.d.passwords.verify(input.password, found.passwordHash)
        : await this.d.passwords.verifyAgainstDummy(input.password);
    if (!found || !valid) throw unauthenticated(Messages.invalidCredentials);
    const now = this.now();
    const refreshToken = newRefreshToken();
    const { sessionId } = await this.d.sessions.create(found.user.id, {
      hash: hashRefreshToken(refreshToken),
      expiresAt: this.refreshExpiry(now),
    });
    return {
      accessToken: this.d.accessTokens.issue({ userId: found.user.id, sessionId }, now),
      refreshToken,
      user: found.user,
    };
  }

  async refresh(presented: string): Promise<IssuedTokens> {
    if (!isPlausibleRefreshToken(presented)) throw unauthenticated(Messages.invalidRefreshToken);
    const now = this.now();
    const refreshToken = newRefreshToken();
    const result = await this.d.sessions.rotate(
      hashRefreshToken(presented),
      { hash: hashRefreshToken(refreshToken), expiresAt: this.refreshExpiry(now) },
      now,
    );
    switch (result.decision) {
      case 'rotate':
        return {
          accessToken: this.d.accessTokens.issue({ userId: result.userId, sessionId: result.sessionId }, now),
          refreshToken,
        };
      case 'reuse':
        // Committed with its revocation record: the verifiers refuse the session's tokens within a second.
        this.d.logger.warn({ session_id: result.sessionId }, 'refresh token reused: session revoked');
        throw unauthenticated(Messages.invalidRefreshToken);
      default:
        throw unauthenticated(Messages.refreshTokenNotFound);
    }
  }

  /** Revokes the caller's session; repeating it changes nothing. */
  async logout(userId: number, sessionId: string | undefined): Promise<void> {
    if (!sessionId) return;
    await this.d.sessions.revoke(sessionId, userId, 'logout');
  }

  async activeUser(id: number): Promise<User> {
    const user = await this.d.users.findActiveById(id);
    if (!user) throw notFound(Messages.userNotFound);
    return user;
  }

  activeUsers(ids: number[]): Promise<User[]> {
    return this.d.users.findActiveByIds(ids);
  }

  /** auth's own verifier asks its database, the truth, on every request. */
  isSessionRevoked(sessionId: string): Promise<boolean> {
    return this.d.sessions.isRevoked(sessionId);
  }

  /** The revocation feed every other verifier follows (SessionRevocationService). */
  revokedSessions(cursor: string, limit: number): Promise<RevocationPage> {
    return readRevocationPage((after, n) => this.d.sessions.revokedAfter(after, n), cursor, limit);
  }

  private refreshExpiry(now: Date): Date {
    return new Date(now.getTime() + this.d.refreshTtlSeconds * 1000);
  }
}
