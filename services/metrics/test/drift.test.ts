import { randomInt } from 'node:crypto';
import { Registry } from 'prom-client';
import request from 'supertest';
import { registerDriftGauges, sampleDrift } from '../src/drift';
import { startTestMetrics, type TestMetrics } from './helpers/harness';

// Post ids above every other suite's (newId() stays below 2^47): the newest rows, so a sample of
// two compares exactly this suite's posts.
const OWN_RANGE = 2 ** 48;
const first = OWN_RANGE + randomInt(1_000_000) * 2;

const [p1, p2] = [first + 1, first];
let t: TestMetrics;

beforeAll(async () => {
  t = await startTestMetrics({ consumers: false });
  // Rows an earlier run of this suite left in the shared test database would outrank this run's.
  await t.knex('post_counters').where('post_id', '>=', OWN_RANGE).delete();
  t.posts.create(p1);
  t.posts.create(p2);
});

afterAll(async () => {
  await t?.knex('post_counters').where('post_id', '>=', OWN_RANGE).delete();
  await t?.close();
});

const sample = () => sampleDrift(t.knex, t.cache, 2);

describe('drift between Redis and PostgreSQL counters', () => {
  it('is zero once the consumer has folded everything, and counts what it has not folded yet', async () => {
    for (const id of [p1, p2, p2]) await t.service.recordView(id, 0);
    await t.startConsumers();
    await t.waitForSync();
    expect(await sample()).toEqual({ posts: 2, views: 0, likes: 0, drifting: 0 });

    await t.stopConsumers();
    for (let i = 0; i < 4; i += 1) await t.service.recordView(p2, 0);
    const liked = await request(t.app)
      .post(`/api/posts/${p1}/like`)
      .set('authorization', `Bearer ${t.tokenFor(7)}`);
    expect(liked.status).toBe(200);
    expect(await sample()).toEqual({ posts: 2, views: 4, likes: 1, drifting: 2 });

    const registry = new Registry();
    registerDriftGauges({ registry, knex: t.knex, cache: t.cache, sampleSize: 2 });
    const text = await registry.metrics();
    expect(text).toContain('mpb_metrics_counter_drift{counter="views"} 4');
    expect(text).toContain('mpb_metrics_counter_drift{counter="likes"} 1');
    expect(text).toContain('mpb_metrics_counter_drift_posts 2');

    await t.startConsumers();
    await t.waitForSync();
    expect(await sample()).toEqual({ posts: 2, views: 0, likes: 0, drifting: 0 });
  });
});
