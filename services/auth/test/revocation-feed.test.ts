import type { Client } from '@grpc/grpc-js';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import {
  loadAuthProto,
  type ListRevokedSessionsRequest,
  type ListRevokedSessionsResponse__Output,
  type SessionRevocationServiceClient,
} from '@mpb/contracts';
import { createLogger } from '@mpb/logger';
import {
  callUnary,
  createGrpcClient,
  followSessionRevocations,
  type GrpcServer,
  type SessionRevocations,
} from '@mpb/service-kit';
import { waitFor } from '@mpb/test-kit';
import { AdvisoryLocks } from '../src/data/pg-errors';
import { createGrpcServer } from '../src/grpc/server';
import { bearer, login, register, type Session } from './helpers/factories';
import { startTestAuth, TEST_DATABASE_URL, type TestAuth } from './helpers/harness';

const CALL = { deadlineMs: 10_000 };

let t: TestAuth;
let server: GrpcServer;
let address: string;
let feed: SessionRevocationServiceClient;

beforeAll(async () => {
  // A database of its own: the feed lists every session revoked in the database, and the other auth
  // test files log sessions out while this one runs (parallel workers), which would land in its pages.
  t = await startTestAuth({ DATABASE_URL: `${TEST_DATABASE_URL}_feed` });
  server = createGrpcServer({ logger: t.logger, metrics: t.metrics, auth: t.context.auth });
  address = `127.0.0.1:${await server.listen(0)}`;
  feed = createGrpcClient(loadAuthProto().blog.auth.v1.SessionRevocationService, address);
});

afterAll(async () => {
  (feed as unknown as Client).close();
  await server.close(1000);
  await t.close();
});

const read = (cursor: string, limit = 0) =>
  callUnary<ListRevokedSessionsRequest, ListRevokedSessionsResponse__Output>(
    feed,
    feed.ListRevokedSessions,
    { cursor, limit },
    CALL,
  );

/** The newest cursor: every revocation before this test is behind it. */
async function latestCursor(): Promise<string> {
  let cursor = '';
  for (;;) {
    const page = await read(cursor);
    cursor = page.next_cursor;
    if (!page.has_more) return cursor;
  }
}

const sessionIdOf = (s: Session): string => (jwt.decode(s.token) as { sid: string }).sid;
const newSession = async (): Promise<Session> => login(t.app, await register(t.app));
const logout = (s: Session) => request(t.app).post('/api/auth/logout').set('Authorization', bearer(s.token));

describe('SessionRevocationService', () => {
  it('lists a logged-out session after the cursor, expiring one access-token lifetime after the logout', async () => {
    const cursor = await latestCursor();
    const session = await newSession();
    const before = Date.now();
    expect((await logout(session)).status).toBe(204);
    const page = await read(cursor);
    expect(page.reset).toBe(false);
    expect(page.sessions.map((s) => s.session_id)).toEqual([sessionIdOf(session)]);
    const expiresAt = Number(page.sessions[0]!.expires_at_unix_ms);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 900_000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 900_000);
    // A second logout of the same session lists nothing new.
    expect((await logout(session)).status).toBe(204);
    expect((await read(page.next_cursor)).sessions).toEqual([]);
  });

  it('lists the session a reused refresh token revoked', async () => {
    const cursor = await latestCursor();
    const session = await newSession();
    const rotated = await request(t.app)
      .post('/api/auth/refresh')
      .send({ refresh_token: session.refreshToken });
    expect(rotated.status).toBe(200);
    const reused = await request(t.app)
      .post('/api/auth/refresh')
      .send({ refresh_token: session.refreshToken });
    expect(reused.status).toBe(401);
    expect((await read(cursor)).sessions.map((s) => s.session_id)).toEqual([sessionIdOf(session)]);
  });

  it('pages in revocation order, and answers the whole set again when the cursor is unknown', async () => {
    const cursor = await latestCursor();
    const sessions = await Promise.all([newSession(), newSession(), newSession()]);
    for (const s of sessions) expect((await logout(s)).status).toBe(204);
    const ids = sessions.map(sessionIdOf);

    const first = await read(cursor, 2);
    expect(first).toMatchObject({ has_more: true, reset: false });
    expect(first.sessions.map((s) => s.session_id)).toEqual(ids.slice(0, 2));
    const second = await read(first.next_cursor, 2);
    expect(second.sessions.map((s) => s.session_id)).toEqual(ids.slice(2));
    expect(second.has_more).toBe(false);

    for (const unknown of ['', '999999999999999', 'not-a-cursor']) {
      const all = await read(unknown);
      expect(all.reset).toBe(true);
      const listed = new Set(all.sessions.map((s) => s.session_id));
      if (!all.has_more) for (const id of ids) expect(listed.has(id)).toBe(true);
    }
    await expect(read(cursor, 1001)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('leaves out revocations whose access tokens have all expired', async () => {
    const cursor = await latestCursor();
    const session = await newSession();
    expect((await logout(session)).status).toBe(204);
    await t
      .knex('session_revocations')
      .where({ session_id: sessionIdOf(session) })
      .update({ expires_at: t.knex.raw("now() - interval '1 second'") });
    const page = await read(cursor);
    expect(page.sessions).toEqual([]);
    expect(Number(page.next_cursor)).toBeGreaterThan(Number(cursor));
  });

  it('never lets a reader skip a revocation still committing: numbers are taken in commit order', async () => {
    const cursor = await latestCursor();
    const [slow, fast] = await Promise.all([newSession(), newSession()]);
    // A revoking transaction that has taken its number and not committed yet.
    const trx = await t.knex.transaction();
    let fastDone = false;
    try {
      await trx.raw('select pg_advisory_xact_lock(?)', [AdvisoryLocks.revocationFeed]);
      await trx('session_revocations').insert({
        session_id: sessionIdOf(slow),
        revoked_at: new Date(),
        expires_at: new Date(Date.now() + 900_000),
      });
      const loggingOut = logout(fast).then((res) => {
        fastDone = true;
        return res;
      });
      await new Promise((r) => setTimeout(r, 300));
      // The later logout waits for the earlier number: a reader sees neither, not the later alone.
      expect(fastDone).toBe(false);
      expect((await read(cursor)).sessions).toEqual([]);
      await trx.commit();
      expect((await loggingOut).status).toBe(204);
    } catch (err) {
      await trx.rollback().catch(() => undefined);
      throw err;
    }
    expect((await read(cursor)).sessions.map((s) => s.session_id)).toEqual([
      sessionIdOf(slow),
      sessionIdOf(fast),
    ]);
  });
});

describe("a verifier following auth's feed", () => {
  let revocations: SessionRevocations;

  beforeAll(async () => {
    revocations = await followSessionRevocations(
      address,
      createLogger({ service: 'follower', level: 'silent' }),
    );
  });

  afterAll(async () => {
    await revocations.stop();
  });

  it('refuses a session within a second of its logout, and keeps it while auth is unreachable', async () => {
    const session = await newSession();
    const sid = sessionIdOf(session);
    expect(revocations.isRevoked(sid)).toBe(false);
    expect((await logout(session)).status).toBe(204);
    const loggedOutAt = Date.now();
    await waitFor(async () => (revocations.isRevoked(sid) ? true : undefined), 2000, 10);
    expect(Date.now() - loggedOutAt).toBeLessThan(1000);

    // auth's gRPC server goes away: the follower keeps what it knows.
    const stopped = server;
    await stopped.close(1000);
    const lastSync = revocations.status().lastSyncAt;
    await new Promise((r) => setTimeout(r, 800));
    expect(revocations.status().lastSyncAt).toBe(lastSync);
    expect(revocations.isRevoked(sid)).toBe(true);

    // auth is back (same port): the follower catches up, and misses nothing revoked meanwhile.
    const another = await newSession();
    expect((await logout(another)).status).toBe(204);
    server = createGrpcServer({ logger: t.logger, metrics: t.metrics, auth: t.context.auth });
    await server.listen(Number(address.split(':')[1]));
    await waitFor(async () => (revocations.isRevoked(sessionIdOf(another)) ? true : undefined), 10_000, 50);
    expect(revocations.isRevoked(sid)).toBe(true);
  });
});
