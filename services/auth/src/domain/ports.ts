import type { EventEnvelope } from '@mpb/contracts';
import type { RotationDecision } from './refresh-rotation';
import type { PublicJwk, SigningKey } from './signing-keys';
import type { User } from './user';

/** What the domain needs from storage; src/data implements it with knex, tests may stub it. */

export interface NewUser {
  name: string;
  username: string;
  email: string;
  passwordHash: string;
  age: number | null;
}

export interface UserStore {
  /** Cheap pre-check so duplicates skip the bcrypt cost; the unique index stays the real guard. */
  existsByUsernameOrEmail(username: string, email: string): Promise<boolean>;
  /** Inserts the user and its event in one transaction; a duplicate is `conflict('user already exists')`. */
  createWithEvent(user: NewUser, event: (created: User) => EventEnvelope): Promise<User>;
  findForLogin(username: string): Promise<{ user: User; passwordHash: string } | undefined>;
  findActiveById(id: number): Promise<User | undefined>;
  findActiveByIds(ids: number[]): Promise<User[]>;
}

export interface NewRefreshToken {
  hash: string;
  expiresAt: Date;
}

export type RotationResult =
  | { decision: Extract<RotationDecision, 'rotate'>; sessionId: string; userId: number }
  | { decision: Extract<RotationDecision, 'reuse'>; sessionId: string }
  | { decision: Exclude<RotationDecision, 'rotate' | 'reuse'> };

export interface SessionStore {
  /** A new session (refresh-token family) with its first token. */
  create(userId: number, first: NewRefreshToken): Promise<{ sessionId: string }>;
  /**
   * Looks the presented token up under a row lock and applies decideRotation: rotates it, or on
   * reuse revokes the whole session, in one transaction.
   */
  rotate(presentedHash: string, next: NewRefreshToken, now: Date): Promise<RotationResult>;
  /**
   * Idempotent. Only the session's owner can revoke it. Every revocation (this one and a reuse in
   * `rotate`) is recorded for the verifiers in the same transaction, until the session's access
   * tokens have expired.
   */
  revoke(sessionId: string, userId: number, reason: string): Promise<void>;
  isRevoked(sessionId: string): Promise<boolean>;
  /** Recorded revocations numbered above `afterSeq` whose tokens have not expired, oldest first. */
  revokedAfter(afterSeq: number, limit: number): Promise<RevocationRecords>;
}

export interface RevocationRecords {
  entries: { seq: number; sessionId: string; expiresAt: Date }[];
  /** The highest number recorded so far (0 when none), expired or not. */
  latestSeq: number;
}

export interface Keyring {
  /** The key new tokens are signed with. */
  signingKey(): SigningKey;
  /** Every key a token may still be signed with, public parts only. */
  publicKeys(): Promise<PublicJwk[]>;
}
