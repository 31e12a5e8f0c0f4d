import jwt from 'jsonwebtoken';
import request from 'supertest';
import { bearer, login, newUser, register } from './helpers/factories';
import { startTestAuth, type TestAuth } from './helpers/harness';

let t: TestAuth;

beforeAll(async () => {
  t = await startTestAuth();
});

afterAll(async () => {
  await t.close();
});

const me = (token: string) => request(t.app).get('/api/auth/me').set('Authorization', bearer(token));
const refresh = (refreshToken: unknown) =>
  request(t.app).post('/api/auth/refresh').send({ refresh_token: refreshToken });

describe('a session from login to logout', () => {
  it('registers, logs in, reads /me, rotates, detects reuse and revokes the whole session', async () => {
    const user = newUser();
    const created = await request(t.app).post('/api/auth/register').send(user);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ message: 'User created successfully' });

    const loggedIn = await request(t.app)
      .post('/api/auth/login')
      .send({ username: user.username, password: user.password });
    expect(loggedIn.status).toBe(200);
    expect(Object.keys(loggedIn.body).sort()).toEqual(['refresh_token', 'token', 'user']);
    expect(loggedIn.headers['cache-control']).toBe('no-store');
    const { token: access1, refresh_token: refresh1 } = loggedIn.body as {
      token: string;
      refresh_token: string;
    };

    const claims = jwt.decode(access1, { complete: true });
    expect(claims?.header.alg).toBe('ES256');
    expect(claims?.payload).toMatchObject({
      sub: String(loggedIn.body.user.id),
      typ: 'access',
      iss: 'mpb-auth',
      aud: 'mpb-api',
    });
    const payload = claims?.payload as { exp: number; iat: number; sid: string };
    expect(payload.exp - payload.iat).toBe(900);

    const profile = await me(access1);
    expect(profile.status).toBe(200);
    expect(profile.body).toEqual(loggedIn.body.user);

    const rotated = await refresh(refresh1);
    expect(rotated.status).toBe(200);
    expect(Object.keys(rotated.body).sort()).toEqual(['access_token', 'refresh_token']);
    const { access_token: access2, refresh_token: refresh2 } = rotated.body as {
      access_token: string;
      refresh_token: string;
    };
    expect(refresh2).not.toBe(refresh1);
    expect((await me(access2)).status).toBe(200);

    // The rotated-away token comes back: someone else holds the family, so it all dies.
    const reused = await refresh(refresh1);
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('UNAUTHENTICATED');

    const newest = await refresh(refresh2);
    expect(newest.status).toBe(401);
    expect(newest.body.error).toBe('refresh token not found or expired');
    for (const token of [access1, access2]) {
      const refused = await me(token);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe('invalid token');
    }
    // Recorded for the other verifiers until the session's last access token has expired.
    const listed = (await t
      .knex('session_revocations')
      .first(t.knex.raw('extract(epoch from expires_at - revoked_at) as seconds'))
      .where({ session_id: payload.sid })) as { seconds: string } | undefined;
    expect(Number(listed?.seconds)).toBe(900);
  });

  it('logs out: the access token and the refresh token of the session stop working, and repeating is harmless', async () => {
    const user = await register(t.app);
    const session = await login(t.app, user);
    const other = await login(t.app, user);

    const out = await request(t.app)
      .post('/api/auth/logout')
      .set('Authorization', bearer(session.token))
      .send({ refresh_token: session.refreshToken });
    expect(out.status).toBe(204);
    expect(out.text).toBe('');

    expect((await me(session.token)).status).toBe(401);
    const refused = await refresh(session.refreshToken);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('refresh token not found or expired');

    const again = await request(t.app).post('/api/auth/logout').set('Authorization', bearer(session.token));
    expect(again.status).toBe(204);

    // Another device's session is untouched.
    expect((await me(other.token)).status).toBe(200);
    expect((await refresh(other.refreshToken)).status).toBe(200);
  });

  it('lets only one of two simultaneous refreshes with the same token win, and revokes the session', async () => {
    const session = await login(t.app, await register(t.app));
    const results = await Promise.all([refresh(session.refreshToken), refresh(session.refreshToken)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    const winner = results.find((r) => r.status === 200)!;
    expect((await refresh(winner.body.refresh_token)).status).toBe(401);
  });

  it('refuses refresh tokens that are malformed, unknown, expired, or an access token', async () => {
    const session = await login(t.app, await register(t.app));
    const malformed = await refresh('not a token!');
    expect(malformed.status).toBe(401);
    expect(malformed.body.error).toBe('invalid refresh token');
    const empty = await refresh('');
    expect(empty.status).toBe(401);
    expect(empty.body.error).toBe('invalid refresh token');

    const unknown = await refresh('A'.repeat(43));
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toBe('refresh token not found or expired');

    const accessAsRefresh = await refresh(session.token);
    expect(accessAsRefresh.status).toBe(401);
    expect(accessAsRefresh.body.error).toBe('refresh token not found or expired');

    await t
      .knex('refresh_tokens')
      .whereIn('session_id', t.knex('sessions').select('id').where({ user_id: session.user.id }))
      .update({ expires_at: t.knex.raw("now() - interval '1 second'") });
    const expired = await refresh(session.refreshToken);
    expect(expired.status).toBe(401);
    expect(expired.body.error).toBe('refresh token not found or expired');

    expect((await refresh(undefined)).status).toBe(400);
    expect((await refresh(12345)).status).toBe(400);
  });

  it('refuses a refresh token as an access token', async () => {
    const session = await login(t.app, await register(t.app));
    const res = await me(session.refreshToken);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid token');
  });

  it('checks the token before the body on protected routes, with the old messages', async () => {
    const noToken = await request(t.app)
      .post('/api/auth/logout')
      .set('Content-Type', 'application/json')
      .send('{"refresh_token": 5}');
    expect(noToken.status).toBe(401);
    expect(noToken.body.error).toBe('missing token');
    expect((await request(t.app).get('/api/auth/me').set('Authorization', 'Token abc')).body.error).toBe(
      'invalid token format',
    );
    expect(
      (await request(t.app).get('/api/auth/me').set('Authorization', 'bearer abc.def.ghi')).body.error,
    ).toBe('invalid token');
  });

  it('never writes a password, hash or token to the logs', async () => {
    const user = await register(t.app);
    const session = await login(t.app, user);
    await refresh(session.refreshToken);
    await request(t.app)
      .post('/api/auth/login')
      .send({ username: user.username, password: 'wrong-password' });
    const logs = t.logs.text();
    expect(logs).toContain('"path":"/api/auth/login"');
    for (const secret of [user.password, session.token, session.refreshToken, '$2b$'])
      expect(logs).not.toContain(secret);
  });
});
