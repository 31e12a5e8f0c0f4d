import net from 'node:net';
import request from 'supertest';
import { bearer, createPost, newPost, newUserId } from './helpers/factories';
import { laterPort, startTestPosts, TEST_DATABASE_URL, type TestPosts } from './helpers/harness';

/**
 * Kafka is down when posts starts: the service still starts, reads and writes work (the outbox keeps
 * the events), /readyz stays 200 and says degraded, and the events go out once Kafka answers.
 * "Kafka" is a TCP forwarder to the local broker on a port that nothing listens on at first.
 */
describe('posts while Kafka is unreachable', () => {
  let t: TestPosts;
  let port: number;
  let forwarder: net.Server | undefined;

  beforeAll(async () => {
    port = await laterPort();
    // Its own database: another file's relay, connected to Kafka, would publish this outbox's rows.
    t = await startTestPosts({
      kafkaBrokers: `127.0.0.1:${port}`,
      databaseUrl: `${TEST_DATABASE_URL}_outage`,
    });
  });

  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => (forwarder ? forwarder.close(resolve) : resolve(undefined)));
  });

  it('starts, serves reads and writes, reports degraded, and publishes the outbox once Kafka is back', async () => {
    const owner = newUserId();
    const token = t.tokenFor(owner);
    const post = await createPost(t.app, token, newPost());
    const updated = await request(t.app)
      .put(`/api/posts/${post.id}`)
      .set('Authorization', bearer(token))
      .send({ title: 'Written while Kafka is down' });
    expect(updated.status).toBe(200);
    expect((await request(t.app).get(`/api/posts/${post.id}`)).body.title).toBe(
      'Written while Kafka is down',
    );

    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'degraded',
      checks: { database: 'ok', kafka: 'degraded: producer not connected' },
    });
    const waiting = () =>
      t
        .knex('outbox')
        .whereNull('published_at')
        .whereRaw("envelope->'payload'->>'user_id' = ?", [String(owner)]);
    expect(await waiting().count({ n: '*' })).toEqual([{ n: '2' }]);

    const [host, brokerPort] = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')[0]!.split(':');
    forwarder = net.createServer((client) => {
      const upstream = net.connect(Number(brokerPort), host, () => client.pipe(upstream).pipe(client));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => forwarder!.listen(port, '127.0.0.1', resolve));

    await t.events.producer.whenConnected();
    const deadline = Date.now() + 20_000;
    while ((await waiting().count({ n: '*' }))[0]?.n !== '0') {
      if (Date.now() > deadline) throw new Error('the outbox was not published after Kafka came back');
      await new Promise((r) => setTimeout(r, 100));
    }
    const after = await request(t.app).get('/readyz');
    expect(after.body).toMatchObject({ status: 'ok', checks: { kafka: 'ok', outbox: 'ok' } });
  });
});
