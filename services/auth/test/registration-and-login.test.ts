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

  it('accepts a missing or null age, and answers it as the old API typed it: the number 0', async () => {
    const { age: _age, ...withoutAge } = newUser();
    const nullAge = { ...newUser(), age: null };
    for (const body of [withoutAge, nullAge]) {
      expect((await post('/api/auth/register', body)).status).toBe(201);
      const login = await post('/api/auth/login', { username: body.username, password: body.password });
      expect(login.body.user.age).toBe(0);
      const me = await request(t.app).get('/api/auth/me').set('authorization', `Bearer ${login.body.token}`);
      expect(me.body.age).toBe(0);
      const profile = await request(t.app).get(`/api/users/${login.body.user.id}`);
      expect(profile.body.age).toBe(0);
    }
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

  it('answers a password over 72 bytes with a clear 400, never 500', async () => {
    const long = await post('/api/auth/register', { ...newUser(), password: 'x'.repeat(4000) });
    expect(long.status).toBe(400);
    expect(long.body.error).toContain('72 bytes');
  });
});

describe('body limits (8 KiB of JSON, 1000 members, 16 levels)', () => {
  const raw = (body: string) =>
    request(t.app).post('/api/auth/register').set('Content-Type', 'application/json').send(body);

  it('takes the largest registration, every character escaped', async () => {
    const user = newUser();
    const body = escapedJson({ ...user, name: '名'.repeat(100), password: '密'.repeat(24), age: 123 });
    expect(body.length).toBeGreaterThan(800);
    expect((await raw(body)).status).toBe(201);
  });

  it('refuses a body over 8 KiB with 413 before parsing it: a 350 000-key object, a huge password', async () => {
    for (const body of [
      wideJson(350_000),
      JSON.stringify({ ...newUser(), password: 'x'.repeat(1024 * 1024) }),
      JSON.stringify({ ...newUser(), name: 'x'.repeat(8 * 1024) }),
    ]) {
      const res = await raw(body);
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        error: 'request body too large (at most 8kb)',
      });
    }
  });

  it('refuses a small body with too many members or levels with 400', async () => {
    expect((await raw(`[${'0,'.repeat(1000)}0]`)).body).toMatchObject({
      code: 'BAD_REQUEST',
      error: 'request body has too many fields (at most 1000)',
    });
    expect((await raw(`${'['.repeat(17)}${']'.repeat(17)}`)).body.error).toBe(
      'request body nests too deeply (at most 16 levels)',
    );
  });
});

/** JSON with every non-ASCII character escaped as \\uXXXX: the largest encoding of a text. */
const escapedJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/** An object of n keys, as raw JSON. */
const wideJson = (n: number): string => `{${Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',')}}`;

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
