import { api, newUser, uniq } from './client';

describe('auth through the gateway', () => {
  it('registers with the old response and logs in with snake_case user and no password hash', async () => {
    const username = uniq('flow_');
    const reg = await api('POST', '/api/auth/register', {
      body: {
        name: 'Ann Flow',
        username,
        email: `${username}@example.test`,
        password: 'secret-pass',
        age: 30,
      },
    });
    expect(reg.status).toBe(201);
    expect(reg.body).toEqual({ message: 'User created successfully' });

    const login = await api('POST', '/api/auth/login', { body: { username, password: 'secret-pass' } });
    expect(login.status).toBe(200);
    expect(Object.keys(login.body).sort()).toEqual(['refresh_token', 'token', 'user']);
    expect(login.body.user).toMatchObject({
      name: 'Ann Flow',
      username,
      email: `${username}@example.test`,
      age: 30,
    });
    expect(typeof login.body.user.id).toBe('number');
    expect(login.text).not.toMatch(/password|\$2[aby]\$/i);
    for (const key of Object.keys(login.body.user)) expect(key).toMatch(/^[a-z_]+$/);
  });

  it('walks register → login → me → refresh (rotation) → logout', async () => {
    const user = await newUser();
    const me = await api('GET', '/api/auth/me', { token: user.token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, username: user.username, email: user.email });
    expect(me.body.password_hash).toBeUndefined();

    const refreshed = await api('POST', '/api/auth/refresh', { body: { refresh_token: user.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).toEqual(expect.any(String));
    expect(refreshed.body.refresh_token).not.toBe(user.refreshToken);
    expect((await api('GET', '/api/auth/me', { token: refreshed.body.access_token })).status).toBe(200);

    const logout = await api('POST', '/api/auth/logout', { token: refreshed.body.access_token });
    expect(logout.status).toBe(204);
    expect((await api('GET', '/api/auth/me', { token: refreshed.body.access_token })).status).toBe(401);
    const afterLogout = await api('POST', '/api/auth/refresh', {
      body: { refresh_token: refreshed.body.refresh_token },
    });
    expect(afterLogout.status).toBe(401);
  });

  it('detects reuse of a rotated refresh token and revokes the whole session', async () => {
    const user = await newUser();
    const first = await api('POST', '/api/auth/refresh', { body: { refresh_token: user.refreshToken } });
    expect(first.status).toBe(200);

    const reuse = await api('POST', '/api/auth/refresh', { body: { refresh_token: user.refreshToken } });
    expect(reuse.status).toBe(401);
    // The thief's replay killed the session: the legitimate newest tokens stop working as well.
    expect(
      (await api('POST', '/api/auth/refresh', { body: { refresh_token: first.body.refresh_token } })).status,
    ).toBe(401);
    expect((await api('GET', '/api/auth/me', { token: first.body.access_token })).status).toBe(401);
    expect((await api('GET', '/api/auth/me', { token: user.token })).status).toBe(401);
  });

  it('keeps other sessions of the same user alive when one is revoked', async () => {
    const user = await newUser();
    const second = await api('POST', '/api/auth/login', {
      body: { username: user.username, password: user.password },
    });
    await api('POST', '/api/auth/logout', { token: user.token });
    expect((await api('GET', '/api/auth/me', { token: user.token })).status).toBe(401);
    expect((await api('GET', '/api/auth/me', { token: second.body.token })).status).toBe(200);
  });

  it('refuses a duplicate username or email with 409', async () => {
    const user = await newUser();
    const sameName = await api('POST', '/api/auth/register', {
      body: {
        name: 'Dup',
        username: user.username,
        email: `${uniq()}@example.test`,
        password: 'secret-pass',
      },
    });
    expect(sameName.status).toBe(409);
    expect(sameName.body.error).toBe('user already exists');
    const sameEmail = await api('POST', '/api/auth/register', {
      body: { name: 'Dup', username: uniq('dup_'), email: user.email, password: 'secret-pass' },
    });
    expect(sameEmail.status).toBe(409);
    expect(sameEmail.text).not.toMatch(/duplicate key|constraint|violates/i);
  });

  it('answers a wrong password and an unknown user alike', async () => {
    const user = await newUser();
    const wrong = await api('POST', '/api/auth/login', {
      body: { username: user.username, password: 'not-the-password' },
    });
    const unknown = await api('POST', '/api/auth/login', {
      body: { username: uniq('ghost_'), password: 'whatever-pw' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error).toBe('invalid username or password');
    expect(unknown.body.error).toBe('invalid username or password');
  });

  it('serves a public profile without the email', async () => {
    const user = await newUser({ name: 'Public Person' });
    const res = await api('GET', `/api/users/${user.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: user.id, username: user.username, name: 'Public Person' });
    expect(res.body.email).toBeUndefined();
    expect(res.text).not.toContain(user.email);
  });

  it.each(['abc', '-1', '0', '99999999999999999999'])('refuses user id %s with 400', async (id) => {
    const res = await api('GET', `/api/users/${id}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid user id');
  });

  it('answers an unknown user id with 404', async () => {
    const res = await api('GET', '/api/users/987654321');
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('user not found');
  });
});
