import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDb } from '@mpb/service-kit';
import { waitFor } from '@mpb/test-kit';
import {
  bearer,
  samples,
  startTestAttachments,
  suffix,
  uniqueId,
  type TestAttachments,
} from './helpers/harness';
import { OwnersStandIn } from './helpers/owners-stand-in';

// The database goes away while a file is streaming to S3: the object must not stay behind, and the
// pending row left in the database is removed by reconciliation once the database is back.
const PG = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE = `mpb_attachments_midway_test_${suffix()}`;
const AUTHOR = 51;

const owners = new OwnersStandIn();
const admin = createDb(`${PG}/postgres`, { max: 1 });
let t: TestAttachments;
let server: http.Server;

beforeAll(async () => {
  t = await startTestAttachments({
    ownersAddress: await owners.start(),
    config: { DATABASE_URL: `${PG}/${DATABASE}` },
  });
  server = http.createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  server.close();
  await t.close();
  await admin.raw(`drop database if exists ${DATABASE} with (force)`);
  await admin.destroy();
  await owners.stop();
});

const allowConnections = (allow: boolean) =>
  admin.raw(`alter database ${DATABASE} with allow_connections ${allow ? 'true' : 'false'}`);

it('answers 503, deletes the uploaded object, and reconciliation removes the pending row', async () => {
  const postId = uniqueId();
  owners.addPost(postId, AUTHOR);
  const boundary = 'midway';
  const file = samples.png(2 * 1024 * 1024);
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const { port } = server.address() as AddressInfo;
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      {
        port,
        method: 'POST',
        path: `/api/posts/${postId}/attachments`,
        headers: {
          authorization: bearer(t.tokens.sign(AUTHOR)),
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length + file.length + tail.length,
        },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.write(head);
    req.write(file.subarray(0, 64 * 1024));
    // The rest follows once the pending row exists and the database is gone.
    void (async () => {
      await waitFor(async () => {
        const rows = await admin.raw(
          `select 1 from pg_stat_activity where datname = ? and state is not null`,
          [DATABASE],
        );
        const pending = await t.knex('attachments').where({ parent_id: postId, state: 'pending' });
        return rows.rows.length > 0 && pending.length === 1 ? true : undefined;
      });
      await allowConnections(false);
      await admin.raw(`select pg_terminate_backend(pid) from pg_stat_activity where datname = ?`, [DATABASE]);
      req.end(Buffer.concat([file.subarray(64 * 1024), tail]));
    })().catch(reject);
  });

  const res = await answer;
  expect(res.status).toBe(503);
  expect(JSON.parse(res.body)).toMatchObject({ error: 'attachment database unavailable' });
  expect(await t.bucketKeys(`posts/${postId}/`)).toEqual([]);

  await allowConnections(true);
  const check = createDb(`${PG}/${DATABASE}`, { max: 1 });
  try {
    expect(await check('attachments').where({ parent_id: postId }).select('state')).toEqual([
      { state: 'pending' },
    ]);
    await new Promise((r) => setTimeout(r, 1100));
    await waitFor(async () => {
      try {
        return (await t.context.attachments.reconcile(1)).staleRows === 1 ? true : undefined;
      } catch {
        return undefined; // the pool still holds connections the database terminated
      }
    }, 10_000);
    expect(await check('attachments').where({ parent_id: postId })).toEqual([]);
  } finally {
    await check.destroy();
  }
});
