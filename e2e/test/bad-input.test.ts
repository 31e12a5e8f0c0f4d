import { api, newUser, uniq } from './client';

const validRegistration = () => {
  const username = uniq('bad_');
  return { name: 'Bad Input', username, email: `${username}@example.test`, password: 'secret-pass' };
};

describe('bad input through the gateway gets a clear 4xx', () => {
  it('answers malformed JSON with the old message', async () => {
    const res = await api('POST', '/api/auth/register', { raw: '{"name": "x",' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid request body');
  });

  it.each([
    ['a number as name', { name: 12345 }, 'name'],
    ['a missing email', { email: undefined }, 'email'],
    ['an invalid email', { email: 'not-an-email' }, 'email'],
    ['a short username', { username: 'ab' }, 'username'],
    ['an over-long username', { username: 'u'.repeat(51) }, 'username'],
    ['an over-long name', { name: 'n'.repeat(101) }, 'name'],
    ['a short password', { password: '12345' }, 'password'],
    ['an age out of range', { age: 124 }, 'age'],
    ['a negative age', { age: -1 }, 'age'],
    ['an age as text', { age: 'old' }, 'age'],
    ['a password over 72 bytes', { password: 'é'.repeat(40) }, 'password'],
  ])('refuses registration with %s, naming the field', async (_name, patch, field) => {
    const res = await api('POST', '/api/auth/register', { body: { ...validRegistration(), ...patch } });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain(field);
  });

  it('refuses a 1 MB password without a 500', async () => {
    const res = await api('POST', '/api/auth/register', {
      body: { ...validRegistration(), password: 'p'.repeat(1024 * 1024) },
    });
    expect([400, 413]).toContain(res.status);
    const login = await api('POST', '/api/auth/login', {
      body: { username: 'someone', password: 'p'.repeat(1024 * 1024) },
    });
    expect([400, 401, 413]).toContain(login.status);
  });

  it('refuses a body over the 4 MiB limit with 413', async () => {
    const res = await api('POST', '/api/auth/register', {
      raw: JSON.stringify({ ...validRegistration(), name: 'x'.repeat(5 * 1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/too large/);
  });

  it('refuses a JSON array or a string as body', async () => {
    expect((await api('POST', '/api/auth/login', { raw: '["a"]' })).status).toBe(400);
    expect((await api('POST', '/api/auth/login', { raw: '"text"' })).status).toBe(400);
  });

  it('never stores unknown or server-owned fields', async () => {
    const body = {
      ...validRegistration(),
      id: 1,
      is_active: false,
      password_hash: 'x',
      created_at: '2000-01-01T00:00:00Z',
    };
    expect((await api('POST', '/api/auth/register', { body })).status).toBe(201);
    const login = await api('POST', '/api/auth/login', {
      body: { username: body.username, password: body.password },
    });
    expect(login.status).toBe(200);
    expect(login.body.user.id).not.toBe(1);
    expect(login.body.user.created_at).not.toMatch(/^2000/);
  });

  it('answers an unknown route with a JSON 404', async () => {
    const res = await api('GET', '/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual(expect.any(String));
  });

  it('never leaks a stack trace or database error', async () => {
    const user = await newUser();
    const probes = await Promise.all([
      api('GET', '/api/users/1%27%20OR%201=1--'),
      api('POST', '/api/auth/login', { body: { username: "' OR 1=1 --", password: "' OR 1=1 --" } }),
      api('POST', '/api/auth/refresh', { body: { refresh_token: "'; DROP TABLE users; --" } }),
      api('GET', '/api/auth/me', { token: user.token, headers: { 'content-type': 'application/json' } }),
    ]);
    for (const p of probes) {
      expect(p.status).toBeLessThan(500);
      expect(p.text).not.toMatch(/at .*\.js:\d+|node_modules|syntax error|relation "|pg_/);
    }
  });

  it('carries a request id on every answer', async () => {
    const res = await api('GET', '/api/nothing-here', { headers: { 'x-request-id': 'e2e-trace-1' } });
    expect(res.headers.get('x-request-id')).toBe('e2e-trace-1');
  });
});
