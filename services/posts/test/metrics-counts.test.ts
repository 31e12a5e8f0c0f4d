import request from 'supertest';
import { waitFor } from '@mpb/test-kit';
import { bearer, createPost, newUserId } from './helpers/factories';
import { laterPort, startTestPosts, type AppVariant, type TestPosts } from './helpers/harness';
import { MetricsStandIn, STAND_IN_LIKES, STAND_IN_VIEWS } from './helpers/metrics-stand-in';

let t: TestPosts;
let standIn: MetricsStandIn;
let withMetrics: AppVariant;

beforeAll(async () => {
  standIn = await new MetricsStandIn().start();
  // The main app of this harness has no metrics at all: nothing listens on its address.
  t = await startTestPosts();
  withMetrics = await t.appWith({ metricsAddr: standIn.address, metricsDeadlineMs: 2000 });
});

afterAll(async () => {
  await t.close();
  await standIn.stop();
});

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await run();
  return { value, ms: Date.now() - started };
}

describe('counts from the metrics service', () => {
  it('records one view per read, with the reader, and answers the counts including it', async () => {
    const reader = newUserId();
    const post = await createPost(withMetrics.app, t.tokenFor(newUserId()));

    const anonymous = await request(withMetrics.app).get(`/api/posts/${post.id}`);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toMatchObject({ like: STAND_IN_LIKES, count_viewers: STAND_IN_VIEWS + 1 });
    expect(anonymous.headers['x-view-recorded']).toBe('true');

    const signedIn = await request(withMetrics.app)
      .get(`/api/posts/${post.id}`)
      .set('Authorization', bearer(t.tokenFor(reader)));
    expect(signedIn.body).toMatchObject({ like: STAND_IN_LIKES, count_viewers: STAND_IN_VIEWS + 2 });

    expect(standIn.recordViewCalls.filter((c) => c.post_id === post.id)).toEqual([
      { post_id: post.id, viewer_id: 0, viewer_address: expect.stringMatching(/127\.0\.0\.1$/) },
      { post_id: post.id, viewer_id: reader, viewer_address: expect.stringMatching(/127\.0\.0\.1$/) },
    ]);
  });

  it('names an anonymous reader by the address the gateway forwarded, never by one the client wrote', async () => {
    const post = await createPost(withMetrics.app, t.tokenFor(newUserId()));
    // The gateway (TRUST_PROXY off) drops the client's header and appends the address of its peer.
    await request(withMetrics.app).get(`/api/posts/${post.id}`).set('X-Forwarded-For', '198.51.100.7');
    // A header that reached posts some other way: only the last hop's entry is believed.
    await request(withMetrics.app)
      .get(`/api/posts/${post.id}`)
      .set('X-Forwarded-For', '203.0.113.66, 198.51.100.8');
    expect(standIn.recordViewCalls.filter((c) => c.post_id === post.id).map((c) => c.viewer_address)).toEqual(
      ['198.51.100.7', '198.51.100.8'],
    );
  });

  it('answers X-View-Recorded: false and the current counts for a reader counted already', async () => {
    const post = await createPost(withMetrics.app, t.tokenFor(newUserId()));
    standIn.dedup = true;
    try {
      const read = () =>
        request(withMetrics.app).get(`/api/posts/${post.id}`).set('X-Forwarded-For', '198.51.100.9');
      const first = await read();
      const second = await read();
      expect(first.headers['x-view-recorded']).toBe('true');
      expect(first.body.count_viewers).toBe(STAND_IN_VIEWS + 1);
      expect(second.status).toBe(200);
      expect(second.headers['x-view-recorded']).toBe('false');
      expect(second.body.count_viewers).toBe(STAND_IN_VIEWS + 1);
      const other = await request(withMetrics.app)
        .get(`/api/posts/${post.id}`)
        .set('X-Forwarded-For', '198.51.100.10');
      expect(other.headers['x-view-recorded']).toBe('true');
      expect(other.body.count_viewers).toBe(STAND_IN_VIEWS + 2);
    } finally {
      standIn.dedup = false;
    }
  });

  it('counts no view for a HEAD request', async () => {
    const post = await createPost(withMetrics.app, t.tokenFor(newUserId()));
    expect((await request(withMetrics.app).head(`/api/posts/${post.id}`)).status).toBe(200);
    expect(standIn.callsFor(post.id)).toEqual({ getCounts: 1, recordView: 0 });
  });

  it('asks for the counts of a whole page in exactly one call', async () => {
    const author = newUserId();
    const token = t.tokenFor(author);
    const posts = [];
    for (let i = 0; i < 5; i += 1) posts.push(await createPost(withMetrics.app, token));
    const before = standIn.getCountsCalls.length;
    const beforeViews = standIn.recordViewCalls.length;

    const res = await request(withMetrics.app).get(`/api/posts?user_id=${author}&limit=3`);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(3);
    for (const p of res.body)
      expect(p).toMatchObject({ like: STAND_IN_LIKES, count_viewers: STAND_IN_VIEWS });
    expect(standIn.getCountsCalls.length - before).toBe(1);
    expect(standIn.getCountsCalls.at(-1)).toEqual({
      post_ids: res.body.map((p: { id: number }) => p.id),
      viewer_id: 0,
    });

    const second = await request(withMetrics.app).get(`/api/posts?user_id=${author}&limit=3&page=2`);
    expect(second.body).toHaveLength(2);
    expect(standIn.getCountsCalls.length - before).toBe(2);
    // Listing is not viewing.
    expect(standIn.recordViewCalls.length).toBe(beforeViews);
  });

  it('makes no call for an empty page', async () => {
    const before = standIn.getCountsCalls.length;
    const res = await request(withMetrics.app).get(`/api/posts?user_id=${newUserId()}`);
    expect(res.body).toEqual([]);
    expect(standIn.getCountsCalls.length).toBe(before);
  });
});

describe('without metrics', () => {
  it('serves the list and the post with counts 0, quickly, and warns once rather than per request', async () => {
    const post = await createPost(t.app, t.tokenFor(newUserId()));
    const list = await timed(() => request(t.app).get(`/api/posts?user_id=${post.user_id}`));
    expect(list.value.status).toBe(200);
    expect(list.value.body[0]).toMatchObject({ id: post.id, like: 0, count_viewers: 0 });
    expect(list.ms).toBeLessThan(1000);

    for (let i = 0; i < 10; i += 1) {
      const one = await timed(() => request(t.app).get(`/api/posts/${post.id}`));
      expect(one.value.status).toBe(200);
      expect(one.value.body).toMatchObject({ like: 0, count_viewers: 0 });
      // Served, but the client learns that its view was not confirmed.
      expect(one.value.headers['x-view-recorded']).toBe('false');
      expect(one.ms).toBeLessThan(1000);
    }
    const warnings = t.logs.entries().filter((l) => l.level === 'warn' && /metrics/.test(String(l.msg)));
    expect(warnings).toHaveLength(1);
    // The harness captures the whole service's log: the Kafka side's errors (a broker slow under load)
    // are not what this checks.
    const kafkaSide = ['kafkajs', 'outbox-relay'];
    const errors = t.logs
      .entries()
      .filter((l) => l.level === 'error' && !kafkaSide.includes(String(l.component)));
    expect(errors).toEqual([]);
  });

  it('stays ready: metrics is not one of the readiness checks', async () => {
    // Leftovers of an earlier, interrupted run are published first.
    await waitFor(async () => ((await t.events.relay.backlog()).oldestAgeSeconds < 30 ? true : undefined));
    const res = await waitFor(async () => {
      const probe = await request(t.app).get('/readyz');
      return probe.status === 200 ? probe : undefined;
    }, 10_000);
    expect(res.body.checks).toEqual({ database: 'ok', kafka: 'ok', outbox: 'ok' });
    expect((await request(t.app).get('/livez')).status).toBe(200);
    const metrics = await request(t.app).get('/metrics');
    expect(metrics.text).toContain('posts_counts_fallback_total');
  });

  it('serves the last known counts when metrics turns slow, and stops asking for a while', async () => {
    const slow = await new MetricsStandIn().start();
    try {
      const variant = await t.appWith({ metricsAddr: slow.address, metricsDeadlineMs: 150 });
      const post = await createPost(variant.app, t.tokenFor(newUserId()));
      const known = await request(variant.app).get(`/api/posts?user_id=${post.user_id}`);
      expect(known.body[0]).toMatchObject({ like: STAND_IN_LIKES, count_viewers: STAND_IN_VIEWS });

      slow.delayMs = 2000;
      const late = await timed(() => request(variant.app).get(`/api/posts/${post.id}`));
      expect(late.value.status).toBe(200);
      expect(late.value.body).toMatchObject({ like: STAND_IN_LIKES, count_viewers: STAND_IN_VIEWS });
      expect(late.ms).toBeLessThan(1000);
      const callsAfterTimeout = slow.callsFor(post.id);

      // Within the pause after a failure, metrics is not called at all.
      const skipped = await timed(() => request(variant.app).get(`/api/posts?user_id=${post.user_id}`));
      expect(skipped.value.body[0]).toMatchObject({ like: STAND_IN_LIKES, count_viewers: STAND_IN_VIEWS });
      expect(skipped.ms).toBeLessThan(100);
      expect(slow.callsFor(post.id)).toEqual(callsAfterTimeout);
    } finally {
      await slow.stop();
    }
  });

  it('picks counts up again once metrics is back', async () => {
    // Not closedPort(): the stand-in binds it below, and every other test's "metrics down" is port 1.
    const port = await laterPort();
    const variant = await t.appWith({ metricsAddr: `127.0.0.1:${port}`, metricsDeadlineMs: 300 });
    const post = await createPost(variant.app, t.tokenFor(newUserId()));
    expect((await request(variant.app).get(`/api/posts/${post.id}`)).body.count_viewers).toBe(0);

    const revived = new MetricsStandIn();
    await revived.start(port);
    try {
      const res = await waitFor(
        async () => {
          const r = await request(variant.app).get(`/api/posts?user_id=${post.user_id}`);
          return r.body[0]?.like === STAND_IN_LIKES ? r : undefined;
        },
        10_000,
        200,
      );
      expect(res.body[0]).toMatchObject({ id: post.id, count_viewers: STAND_IN_VIEWS });
      expect(variant.logs.entries().some((l) => l.msg === 'metrics reachable again')).toBe(true);
    } finally {
      await revived.stop();
    }
  });
});
