import type { Knex } from 'knex';
import type { Logger } from '@mpb/logger';
import { createTokenVerifier, type TokenVerifier } from '@mpb/service-kit';
import type { AuthConfig } from './config';
import { loadKeyring } from './data/keyring';
import { SessionRepository } from './data/session-repository';
import { SigningKeyRepository } from './data/signing-key-repository';
import { UserRepository } from './data/user-repository';
import { AccessTokenIssuer } from './domain/access-tokens';
import { AuthService } from './domain/auth-service';
import { createPasswordHasher } from './domain/password';
import type { Keyring } from './domain/ports';

export type AuthSettings = Pick<
  AuthConfig,
  | 'JWT_ISSUER'
  | 'JWT_AUDIENCE'
  | 'ACCESS_TOKEN_TTL_SECONDS'
  | 'REFRESH_TOKEN_TTL_SECONDS'
  | 'BCRYPT_COST'
  | 'SIGNING_KEY_PEM'
>;

export interface AuthContext {
  auth: AuthService;
  keyring: Keyring;
  /** Verifies access tokens in-process: auth holds the keys, and checks revocations in its database. */
  verifier: TokenVerifier;
  /** The same checks minus revocation: logging out of an already revoked session is a no-op, not a 401. */
  logoutVerifier: TokenVerifier;
}

/** Builds the domain objects on top of the clients main.ts (or a test) created. */
export async function createAuthContext(c: {
  settings: AuthSettings;
  knex: Knex;
  logger: Logger;
}): Promise<AuthContext> {
  const { settings, knex, logger } = c;
  const keyring = await loadKeyring({
    repository: new SigningKeyRepository(knex),
    configuredPem: settings.SIGNING_KEY_PEM,
    logger,
  });
  const auth = new AuthService({
    users: new UserRepository(knex),
    sessions: new SessionRepository(knex, { accessTokenTtlSeconds: settings.ACCESS_TOKEN_TTL_SECONDS }),
    passwords: await createPasswordHasher(settings.BCRYPT_COST),
    accessTokens: new AccessTokenIssuer(keyring, {
      issuer: settings.JWT_ISSUER,
      audience: settings.JWT_AUDIENCE,
      ttlSeconds: settings.ACCESS_TOKEN_TTL_SECONDS,
    }),
    refreshTtlSeconds: settings.REFRESH_TOKEN_TTL_SECONDS,
    logger,
  });
  const verifierOptions = {
    loadKeys: () => keyring.publicKeys(),
    issuer: settings.JWT_ISSUER,
    audience: settings.JWT_AUDIENCE,
    minRefetchIntervalMs: 5_000,
  };
  return {
    auth,
    keyring,
    verifier: createTokenVerifier({
      ...verifierOptions,
      isSessionRevoked: (sessionId) => auth.isSessionRevoked(sessionId),
    }),
    logoutVerifier: createTokenVerifier(verifierOptions),
  };
}
