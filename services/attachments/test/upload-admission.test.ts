import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
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

const KIB = 1024;
const owners = new OwnersStandIn();
let t: TestAttachments;
let server: Server;
let port: number;

beforeAll(async () => {
  t = await startTestAttachments({
    ownersAddress: await owners.start(),
    config: {
      MAX_FILE_BYTES: String(64 * KIB),
      MAX_REQUEST_BYTES: String(128 * KIB),
      MAX_UPLOADS_IN_FLIGHT_PER_USER: '1',
      // Room for two uploads of unknown length (each may spool one file of MAX_FILE_BYTES).
      UPLOAD_SPOOL_MAX_BYTES: String(128 * KIB),
      UPLOAD_RETRY_AFTER_SECONDS: '7',
    },
  });
  // Held uploads need a real socket on loopback: the body is sent in parts, and kept open.
  server = createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await t?.close();
  await owners.stop();
});

const newPost = (author: number): number => {
  const id = uniqueId();
  owners.addPost(id, author);
  return id;
};

/**
 * An upload of unknown length (chunked) whose first 4 KiB are sent, so it is admitted and spooling,
 * and the rest waits until `finish` (or the client gives up with `abort`).
 */
async function holdUpload(author: number) {
  const postId = newPost(author);
  const boundary = `held-${suffix()}`;
  const spooled = t.spoolFiles().length;
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: `/api/posts/${postId}/attachments`,
    headers: {
      authorization: bearer(t.tokens.sign(author)),
      'content-type': `multipart/form-data; boundary=${boundary}`,
    },
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
  answer.catch(() => undefined);
  req.write(
    `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="held.png"\r\n` +
      'Content-Type: image/png\r\n\r\n',
  );
  req.write(samples.png(4 * KIB));
  await waitFor(async () => (t.spoolFiles().length > spooled ? true : undefined), 10_000, 20);
  return {
    postId,
    finish: () => {
      req.end(`\r\n--${boundary}--\r\n`);
      return answer;
    },
    abort: () => req.destroy(),
  };
}

const upload = (author: number, postId = newPost(author)) =>
  request(t.app)
    .post(`/api/posts/${postId}/attachments`)
    .set('Authorization', bearer(t.tokens.sign(author)))
    .attach('files', samples.png(2 * KIB), { filename: 'small.png', contentType: 'image/png' });

describe('uploads in flight per user', () => {
  it('refuses a second upload of the same user with 429 and Retry-After, while others upload', async () => {
    const held = await holdUpload(101);

    const refused = await upload(101);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('7');
    expect(refused.body).toMatchObject({
      error: 'too many uploads in flight: at most 1 at once per user, retry when one has finished',
      code: 'RATE_LIMITED',
    });
    expect((await upload(102)).status).toBe(201);

    expect((await held.finish()).status).toBe(201);
    expect((await upload(101)).status).toBe(201);
    expect(t.spoolFiles()).toEqual([]);
  });

  it('gives the slot back when the client gives up mid-upload, and leaves no temporary file', async () => {
    const held = await holdUpload(103);
    held.abort();
    await waitFor(async () => (t.spoolFiles().length === 0 ? true : undefined), 10_000, 20);
    await waitFor(async () => ((await upload(103)).status === 201 ? true : undefined), 10_000, 100);
    expect(await t.knex('attachments').where({ parent_type: 'post', parent_id: held.postId })).toEqual([]);
  });
});

describe('spool space of all uploads', () => {
  it('refuses an upload with 503 and Retry-After when the spool has no room for it, and admits it later', async () => {
    const first = await holdUpload(201);
    const second = await holdUpload(202);

    const postId = newPost(203);
    const refused = await upload(203, postId);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('7');
    expect(refused.body).toMatchObject({
      error: 'the server has no room for more uploads right now, retry later',
      code: 'UNAVAILABLE',
    });
    expect(await t.knex('attachments').where({ parent_type: 'post', parent_id: postId })).toEqual([]);

    expect((await first.finish()).status).toBe(201);
    expect((await upload(203, postId)).status).toBe(201);
    expect((await second.finish()).status).toBe(201);
    expect(t.spoolFiles()).toEqual([]);
  });
});
