import { validate } from '@mpb/service-kit';
import { PASSWORD_MAX_BYTES } from '../domain/password';
import { loginSchema, refreshSchema, registerSchema } from './request-schemas';

const valid = { name: 'Ann Lee', username: 'ann_lee', email: 'ann@example.com', password: 'secret1' };

const errorOf = (input: unknown): { message: string; field?: unknown } => {
  try {
    validate(registerSchema, input);
  } catch (err) {
    const e = err as { message: string; code: string; details?: { field?: unknown } };
    expect(e.code).toBe('VALIDATION_FAILED');
    return { message: e.message, field: e.details?.field };
  }
  throw new Error('expected a validation error');
};

describe('registration rules', () => {
  it('accepts the old contract, with or without age, and drops unknown fields', () => {
    expect(validate(registerSchema, { ...valid, age: 30, id: 99, is_admin: true })).toEqual({
      ...valid,
      age: 30,
    });
    expect(validate(registerSchema, valid)).toEqual(valid);
  });

  it('trims names, usernames and e-mails but never passwords', () => {
    expect(
      validate(registerSchema, { ...valid, username: '  ann  ', password: ' pass word ' }),
    ).toMatchObject({
      username: 'ann',
      password: ' pass word ',
    });
  });

  it.each([
    ['name', { ...valid, name: 'A' }],
    ['name', { ...valid, name: 'A'.repeat(101) }],
    ['username', { ...valid, username: 'ab' }],
    ['username', { ...valid, username: '   ab   ' }],
    ['username', { ...valid, username: 'a'.repeat(51) }],
    ['email', { ...valid, email: 'not-an-email' }],
    ['password', { ...valid, password: '12345' }],
    ['age', { ...valid, age: -1 }],
    ['age', { ...valid, age: 124 }],
    ['age', { ...valid, age: 20.5 }],
    ['age', { ...valid, age: 'old' }],
    ['name', { ...valid, name: 42 }],
    ['email', { name: 'Ann', username: 'ann', password: 'secret1' }],
    ['name', { ...valid, name: 'Ann\u0000Lee' }],
    ['username', { ...valid, username: 'ann\u0000lee' }],
  ])('rejects a bad %s and names it', (field, input) => {
    const e = errorOf(input);
    expect(e.field).toBe(field);
    expect(e.message).toContain(field);
  });
});

describe('password byte limit', () => {
  it(`accepts exactly ${PASSWORD_MAX_BYTES} bytes`, () => {
    expect(() =>
      validate(registerSchema, { ...valid, password: 'a'.repeat(PASSWORD_MAX_BYTES) }),
    ).not.toThrow();
  });

  it('rejects 73 bytes, which bcrypt would silently truncate', () => {
    expect(errorOf({ ...valid, password: 'a'.repeat(PASSWORD_MAX_BYTES + 1) }).message).toBe(
      'password must be at most 72 bytes (UTF-8)',
    );
  });

  it('counts bytes, not characters: 25 three-byte characters are too long', () => {
    const password = '€'.repeat(25); // 25 characters, 75 bytes
    expect(password.length).toBeLessThan(PASSWORD_MAX_BYTES);
    expect(errorOf({ ...valid, password }).message).toContain('72 bytes');
  });

  it('rejects a NUL character, where bcrypt would stop reading', () => {
    expect(errorOf({ ...valid, password: 'abc\u0000defgh' }).message).toContain('NUL');
  });

  it('refuses a NUL in the login username, which PostgreSQL could not compare', () => {
    expect(() => validate(loginSchema, { username: 'ann\u0000', password: 'secret1' })).toThrow(/NUL/);
  });

  it('applies to login too, so a long password cannot match a truncated hash', () => {
    expect(() => validate(loginSchema, { username: 'ann', password: 'a'.repeat(100) })).toThrow(/72 bytes/);
  });
});

describe('refresh request', () => {
  it('requires the field and a string, but leaves the token format to the service', () => {
    expect(() => validate(refreshSchema, {})).toThrow(/refresh_token is required/);
    expect(() => validate(refreshSchema, { refresh_token: 5 })).toThrow(/must be a string/);
    expect(validate(refreshSchema, { refresh_token: '' })).toEqual({ refresh_token: '' });
  });
});
