import request from 'supertest';
import { UserRepository } from '../src/data/user-repository';
import { newUser, register, suffix } from './helpers/factories';
import { startTestAuth, type TestAuth } from './helpers/harness';

let t: TestAuth;

beforeAll(async () => {
  t = await startTestAuth();
});

afterAll(async () => {
  await t.close();
});

const post = (path: string, body: unknown) =>
  request(t.app)
    .post(path)
    .send(body as object);

describe('registration', () => {
  it('refuses a duplicate username or e-mail with 409, whatever the letter case', async () => {
    const user = await register(t.app);
    const cases = [
      newUser({ username: user.username }),
      newUser({ username: user.username.toUpperCase() }),
      newUser({ email: user.email }),
      newUser({ email: user.email.toUpperCase() }),
    ];
    for (const duplicate of cases) {
      const res = await post('/api/auth/register', duplicate);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ error: 'user already exists', code: 'CONFLICT' });
    }
  });

  it('answers 409, not a database error, when two registrations race past the pre-check', async () => {
    const user = newUser();
    const results = await Promise.all([
      post('/api/auth/register', user),
      post('/api/auth/register', { ...user, email: `x${user.email}` }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    // The unique index is the guard the pre-check only shortcuts: hit it directly.
    const repo = new UserRepository(t.knex);
    await expect(
      repo.createWithEvent(
        { name: 'Dup', username: user.username, email: `y${user.email}`, passwordHash: 'x', age: null },
        () => {
          throw new Error('the event must not be built for a duplicate');
        },
      ),
    ).rejects.toMatchObject({ code: 'CONFLICT', message: 'user already exists' });
  });

  it('stores what it validated and nothing a client tries to set', async () => {
    const user = newUser();
    const res = await post('/api/auth/register', {
      ...user,
      id: 987654321,
      is_active: false,
      password_hash: 'x',
      created_at: '2000-01-01',
      role: 'admin',
    });
    expect(res.status).toBe(201);
    const row = await t.knex('users').first().where({ username: user.username });
    expect(row.id).not.toBe('987654321');
    expect(row.is_active).toBe(true);
    expect(row.password_hash).toMatch(/^\$2b\$10\$/);
    expect(new Date(row.created_at).getFullYear()).toBeGreaterThan(2000);
  });

  it('accepts a missing or null age', async () => {
    const { age: _age, ...withoutAge } = newUser();
    expect((await post('/api/auth/register', withoutAge)).status).toBe(201);
    expect((await post('/api/auth/register', { ...newUser(), age: null })).status).toBe(201);
  });

  const s = suffix();
  const valid = { name: 'Ann', username: `ann_${s}`, email: `ann_${s}@example.test`, password: 'secret1' };
  it.each([
    ['a missing field', { ...valid, email: undefined }, 'email is required'],
    ['a wrong type', { ...valid, name: 12 }, 'name must be a string'],
    ['a short name', { ...valid, name: 'A' }, 'name'],
    ['an over-long username', { ...valid, username: 'u'.repeat(51) }, 'username'],
    ['an over-long name', { ...valid, name: 'n'.repeat(101) }, 'name'],
    ['a bad e-mail', { ...valid, email: 'nope' }, 'email must be a valid email'],
    ['a short password', { ...valid, password: '12345' }, 'password'],
    [
      'a 73-byte password',
      { ...valid, password: 'p'.repeat(73) },
      'password must be at most 72 bytes (UTF-8)',
    ],
    ['an age above 123', { ...valid, age: 124 }, 'age must be less than or equal to 123'],
    ['a negative age', { ...valid, age: -1 }, 'age must be greater than or equal to 0'],
    ['a fractional age', { ...valid, age: 3.5 }, 'age must be an integer'],
    ['an array body', [valid], 'value must be of type object'],
  ])('rejects %s with 400 naming the field', async (_case, body, message) => {
    const res = await post('/api/auth/register', body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.error).toContain(message);
  });

  it('answers malformed JSON with the old message', async () => {
    const res = await request(t.app)
      .post('/api/auth/register')
      .set('Content-Type', 'application/json')
      .send('{"name": "Ann",');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid request body', code: 'BAD_REQUEST' });
  });

  it('answers a 1 MB password with a clear 400, and a body over 4 MiB with 413, never 500', async () => {
    const huge = await post('/api/auth/register', { ...newUser(), password: 'x'.repeat(1024 * 1024) });
    expect(huge.status).toBe(400);
    expect(huge.body.error).toContain('72 bytes');
    const tooLarge = await post('/api/auth/register', { ...newUser(), name: 'x'.repeat(5 * 1024 * 1024) });
    expect(tooLarge.status).toBe(413);
  });
});

describe('login', () => {
  it('returns the token pair and the user in snake_case, without any password data', async () => {
    const user = await register(t.app);
    const res = await post('/api/auth/login', { username: user.username, password: user.password });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.user).sort()).toEqual([
      'age',
      'created_at',
      'email',
      'id',
      'name',
      'username',
    ]);
    expect(res.body.user).toMatchObject({
      name: user.name,
      username: user.username,
      email: user.email,
      age: user.age,
    });
    expect(typeof res.body.user.id).toBe('number');
    expect(res.text).not.toMatch(/password|\$2b\$|Password/);
  });

  it('matches the username case-insensitively', async () => {
    const user = await register(t.app, newUser({ username: `MiXeD_${suffix()}` }));
    const res = await post('/api/auth/login', {
      username: user.username.toLowerCase(),
      password: user.password,
    });
    expect(res.status).toBe(200);
    expect(res.body.user.username).toBe(user.username);
  });

  it('answers a wrong password and an unknown user identically', async () => {
    const user = await register(t.app);
    const wrong = await post('/api/auth/login', { username: user.username, password: 'wrong-password' });
    const unknown = await post('/api/auth/login', {
      username: `ghost_${suffix()}`,
      password: 'wrong-password',
    });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'invalid username or password', code: 'UNAUTHENTICATED' });
    }
  });

  it('refuses a deactivated user like a wrong password', async () => {
    const user = await register(t.app);
    await t.knex('users').where({ username: user.username }).update({ is_active: false });
    const res = await post('/api/auth/login', { username: user.username, password: user.password });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid username or password');
  });

  it.each([
    ['a missing password', { username: 'someone' }, 'password is required'],
    ['a short username', { username: 'ab', password: 'secret1' }, 'username'],
    ['a wrong type', { username: 'someone', password: 123456 }, 'password must be a string'],
  ])('rejects %s with 400', async (_case, body, message) => {
    const res = await post('/api/auth/login', body);
    expect(res.status).toBe(400);
    expect(res.body.error).toContain(message);
  });
});
