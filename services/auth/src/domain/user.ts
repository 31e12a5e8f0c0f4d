import type { UserRegisteredPayload } from '@mpb/contracts';

/** A user as the service works with it. The password hash is deliberately not part of it. */
export interface User {
  id: number;
  name: string;
  username: string;
  email: string;
  age: number | null;
  isActive: boolean;
  createdAt: Date;
}

/**
 * What the user sees about themselves (login, /me): includes their e-mail, never credentials. The
 * old API's types: `age` is always a number (0 when the user gave none).
 */
export interface OwnProfile {
  id: number;
  name: string;
  username: string;
  email: string;
  age: number;
  created_at: string;
}

/** What anyone may see about a user. */
export type PublicProfile = Omit<OwnProfile, 'email'>;

export const toOwnProfile = (u: User): OwnProfile => ({
  id: u.id,
  name: u.name,
  username: u.username,
  email: u.email,
  age: u.age ?? 0,
  created_at: u.createdAt.toISOString(),
});

export const toPublicProfile = (u: User): PublicProfile => ({
  id: u.id,
  name: u.name,
  username: u.username,
  age: u.age ?? 0,
  created_at: u.createdAt.toISOString(),
});

/**
 * Payload of `user.registered` (its contract lives in @mpb/contracts): public fields only, so no
 * consumer ever holds an e-mail or hash.
 */
export const userRegisteredPayload = (u: User): UserRegisteredPayload => ({
  id: u.id,
  username: u.username,
  name: u.name,
  created_at: u.createdAt.toISOString(),
});
