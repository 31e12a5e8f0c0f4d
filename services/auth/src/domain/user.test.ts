import { contractViolations, EventTypes } from '@mpb/contracts';
import { generateKeyPairSync } from 'node:crypto';
import { generateSigningKeyPem, signingKeyFromPem } from './signing-keys';
import { toOwnProfile, toPublicProfile, userRegisteredPayload, type User } from './user';

const user: User = {
  id: 3,
  name: 'Ann',
  username: 'ann',
  email: 'ann@example.com',
  age: null,
  isActive: true,
  createdAt: new Date('2026-01-02T03:04:05Z'),
};

describe('user views', () => {
  it('shows the owner their e-mail, in snake_case', () => {
    expect(toOwnProfile(user)).toEqual({
      id: 3,
      name: 'Ann',
      username: 'ann',
      email: 'ann@example.com',
      age: 0,
      created_at: '2026-01-02T03:04:05.000Z',
    });
  });

  it('keeps the old API types: age is a number, 0 when the user gave none', () => {
    expect(toOwnProfile(user).age).toBe(0);
    expect(toPublicProfile(user).age).toBe(0);
    expect(toOwnProfile({ ...user, age: 34 }).age).toBe(34);
    expect(toPublicProfile({ ...user, age: 34 }).age).toBe(34);
  });

  it('never shows an e-mail publicly or in events', () => {
    expect(toPublicProfile(user)).not.toHaveProperty('email');
    expect(userRegisteredPayload(user)).toEqual({
      id: 3,
      username: 'ann',
      name: 'Ann',
      created_at: '2026-01-02T03:04:05.000Z',
    });
  });

  it('builds user.registered as the shared event contract says', () => {
    expect(contractViolations(EventTypes.UserRegistered, userRegisteredPayload(user))).toEqual([]);
  });

  it('keeps the wire form of user.registered byte for byte: field order and types', () => {
    expect(JSON.stringify(userRegisteredPayload(user))).toBe(
      '{"id":3,"username":"ann","name":"Ann","created_at":"2026-01-02T03:04:05.000Z"}',
    );
  });
});

describe('signing keys', () => {
  it('derive a stable key id and publish no private part', () => {
    const pem = generateSigningKeyPem();
    const a = signingKeyFromPem(pem);
    expect(signingKeyFromPem(pem).kid).toBe(a.kid);
    expect(a.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Object.keys(a.publicJwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  });

  it('refuse anything but an EC P-256 key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(() => signingKeyFromPem(rsa)).toThrow(/P-256/);
  });
});
