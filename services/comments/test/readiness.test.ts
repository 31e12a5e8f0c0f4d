import request from 'supertest';
import { startTestComments, type TestComments } from './helpers/harness';
import { PostServiceStandIn } from './helpers/post-stand-in';

let t: TestComments;
const posts = new PostServiceStandIn();

beforeAll(async () => {
  t = await startTestComments({ postsAddress: await posts.start(), consume: true });
});

afterAll(async () => {
  await t.close();
  await posts.stop();
});

describe('probes', () => {
  it('/livez answers while the process is up', async () => {
    expect(await request(t.app).get('/livez')).toMatchObject({
      status: 200,
      body: { status: 'ok', service: 'comments' },
    });
  });

  it('/metrics exposes Prometheus metrics', async () => {
    const res = await request(t.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('http_request_duration_seconds');
  });

  it('/readyz checks the database, Kafka, the consumer and the outbox, then reports degraded (still 200) when the consumer stops', async () => {
    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ok',
      service: 'comments',
      checks: { database: 'ok', kafka: 'ok', consumer: 'ok', outbox: 'ok' },
    });

    await t.events.consumer!.stop();
    // Comments are read and written without the consumer: the instance stays in the load balancer.
    const stopped = await request(t.app).get('/readyz');
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({
      status: 'degraded',
      checks: { consumer: 'degraded: consumer not running', database: 'ok' },
    });
  });
});
