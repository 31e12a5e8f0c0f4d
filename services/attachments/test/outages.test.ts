import { credentials } from '@grpc/grpc-js';
import request from 'supertest';
import { loadHealthProto, type HealthClient } from '@mpb/contracts';
import { createLogger } from '@mpb/logger';
import { createMetrics } from '@mpb/service-kit';
import { closedPort } from '@mpb/test-kit';
import { createGrpcServer } from '../src/grpc/server';
import { bearer, samples, startTestAttachments, uniqueId, type TestAttachments } from './helpers/harness';
import { OwnersStandIn } from './helpers/owners-stand-in';

const AUTHOR = 31;
const owners = new OwnersStandIn();
let ownersAddress: string;

beforeAll(async () => {
  ownersAddress = await owners.start();
});

afterAll(async () => {
  await owners.stop();
});

const upload = (t: TestAttachments, path: string) =>
  request(t.app)
    .post(path)
    .set('Authorization', bearer(t.tokens.sign(AUTHOR)))
    .attach('files', samples.png(), { filename: 'a.png', contentType: 'image/png' });

describe('S3 unreachable', () => {
  let t: TestAttachments;
  beforeAll(async () => {
    t = await startTestAttachments({
      ownersAddress,
      config: { S3_ENDPOINT: `http://127.0.0.1:${await closedPort()}`, S3_REQUEST_TIMEOUT_MS: '1000' },
    });
  });
  afterAll(() => t.close());

  it('answers 503 file storage unavailable and stores no row', async () => {
    const postId = uniqueId();
    owners.addPost(postId, AUTHOR);
    const res = await upload(t, `/api/posts/${postId}/attachments`);
    expect(res).toMatchObject({
      status: 503,
      body: { error: 'file storage unavailable', code: 'UNAVAILABLE' },
    });
    // The failed file's pending row is removed once its key is known not to exist... or left for
    // reconciliation when S3 cannot even confirm that; either way it is never listed.
    expect((await request(t.app).get(`/api/posts/${postId}/attachments`)).body).toEqual([]);
    const ready = await t.knex('attachments').where({ parent_id: postId, state: 'ready' });
    expect(ready).toEqual([]);
  });

  it('reports the bucket in /readyz', async () => {
    const res = await request(t.app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.checks.storage).not.toBe('ok');
  });
});

describe('database unreachable', () => {
  let t: TestAttachments;
  beforeAll(async () => {
    t = await startTestAttachments({
      ownersAddress,
      unmigrated: true,
      config: { DATABASE_URL: `postgres://postgres@127.0.0.1:${await closedPort()}/mpb_attachments_test` },
    });
  });
  afterAll(() => t.close());

  it('answers 503 before anything reaches the bucket', async () => {
    const postId = uniqueId();
    owners.addPost(postId, AUTHOR);
    const res = await upload(t, `/api/posts/${postId}/attachments`);
    expect(res).toMatchObject({ status: 503, body: { error: 'attachment database unavailable' } });
    expect(await t.bucketKeys()).toEqual([]);
  });
});

describe('owner services unreachable', () => {
  let t: TestAttachments;
  beforeAll(async () => {
    t = await startTestAttachments({ ownersAddress: `127.0.0.1:${await closedPort()}` });
  });
  afterAll(() => t.close());

  it.each([
    ['posts', 'post'],
    ['comments', 'comment'],
  ])('answers 503 %s service unavailable and reads nothing', async (service, kind) => {
    const res = await upload(t, `/api/${kind}s/${uniqueId()}/attachments`);
    expect(res).toMatchObject({ status: 503, body: { error: `${service} service unavailable` } });
    expect(await t.bucketKeys()).toEqual([]);
  });
});

describe('gRPC health', () => {
  it('serves grpc.health.v1 as SERVING', async () => {
    const server = createGrpcServer({
      logger: createLogger({ service: 'attachments', level: 'silent' }),
      metrics: createMetrics('attachments'),
    });
    const port = await server.listen(0);
    const client = new (loadHealthProto().grpc.health.v1.Health)(
      `127.0.0.1:${port}`,
      credentials.createInsecure(),
    ) as unknown as HealthClient;
    try {
      const status = await new Promise((resolve, reject) =>
        client.Check({ service: '' }, (err, res) => (err ? reject(err) : resolve(res?.status))),
      );
      expect(status).toBe('SERVING');
    } finally {
      client.close();
      await server.close(100);
    }
  });
});
