import request from 'supertest';
import { JWKS_PATH } from '@mpb/contracts';
import { waitFor } from '@mpb/test-kit';
import { login, register } from './helpers/factories';
import { startTestAuth, type TestAuth } from './helpers/harness';

let t: TestAuth;

beforeAll(async () => {
  t = await startTestAuth();
});

afterAll(async () => {
  await t.close();
});

describe('public user profiles', () => {
  it('shows a user without their e-mail', async () => {
    const user = await register(t.app);
    const { user: own } = await login(t.app, user);
    const res = await request(t.app).get(`/api/users/${own.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: own.id,
      name: user.name,
      username: user.username,
      age: user.age,
      created_at: own.created_at,
    });
    expect(res.text).not.toContain(user.email);
    // Leading zeros are read as the old API read them, as in every service.
    expect((await request(t.app).get(`/api/users/00${own.id}`)).body).toEqual(res.body);
  });

  it.each(['abc', '-1', '+1', '0', '1.5', '1e3', '9007199254740993', '99999999999999999999'])(
    'answers 400 for the id %s',
    async (id) => {
      const res = await request(t.app).get(`/api/users/${id}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid user id');
    },
  );

  it('answers 404 for an unknown or deactivated user', async () => {
    const unknown = await request(t.app).get(`/api/users/${Number.MAX_SAFE_INTEGER}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('user not found');
    const { user } = await login(t.app, await register(t.app));
    await t.knex('users').where({ id: user.id }).update({ is_active: false });
    expect((await request(t.app).get(`/api/users/${user.id}`)).status).toBe(404);
  });
});

describe('published keys', () => {
  it('serves the same public keys at both paths, with no private part', async () => {
    const wellKnown = await request(t.app).get(JWKS_PATH);
    const alias = await request(t.app).get('/api/auth/jwks');
    expect(wellKnown.status).toBe(200);
    expect(alias.body).toEqual(wellKnown.body);
    const keys = wellKnown.body.keys as Array<Record<string, unknown>>;
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const key of keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(key).not.toHaveProperty('d');
    }
    expect(keys.map((k) => k.kid)).toContain(t.context.keyring.signingKey().kid);
  });
});

describe('probes', () => {
  it('reports ready with every dependency checked', async () => {
    // Leftovers of an earlier, interrupted run are published first.
    await waitFor(async () => ((await t.events.relay.backlog()).oldestAgeSeconds < 30 ? true : undefined));
    // A probe is retried by its caller too: a slow broker answer on a loaded machine is not a failure.
    const res = await waitFor(async () => {
      const probe = await request(t.app).get('/readyz');
      return probe.status === 200 ? probe : undefined;
    }, 10_000);
    expect(res.body.checks).toEqual({ database: 'ok', kafka: 'ok', outbox: 'ok' });
    expect((await request(t.app).get('/livez')).status).toBe(200);
  });

  it('exposes Prometheus metrics', async () => {
    const res = await request(t.app).get('/metrics');
    expect(res.text).toContain('http_request_duration_seconds');
  });
});
