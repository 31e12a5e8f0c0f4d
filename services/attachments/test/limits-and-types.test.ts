import request from 'supertest';
import { bearer, samples, startTestAttachments, uniqueId, type TestAttachments } from './helpers/harness';
import { OwnersStandIn } from './helpers/owners-stand-in';

let t: TestAttachments;
const owners = new OwnersStandIn();
const AUTHOR = 21;
const KIB = 1024;

beforeAll(async () => {
  t = await startTestAttachments({
    ownersAddress: await owners.start(),
    config: {
      MAX_FILE_BYTES: String(64 * KIB),
      MAX_FILES_PER_REQUEST: '3',
      MAX_REQUEST_BYTES: String(100 * KIB),
    },
  });
});

afterAll(async () => {
  await t.close();
  await owners.stop();
});

/** A new post of AUTHOR, and an upload to it of the given files. */
async function uploadToNewPost(files: Array<[Buffer, string]>, field = 'files') {
  const postId = uniqueId();
  owners.addPost(postId, AUTHOR);
  let req = request(t.app)
    .post(`/api/posts/${postId}/attachments`)
    .set('Authorization', bearer(t.tokens.sign(AUTHOR)));
  for (const [bytes, name] of files)
    req = req.attach(field, bytes, { filename: name, contentType: 'image/png' });
  return { postId, res: await req };
}

/** Nothing of the post is left: no row in any state, no object. */
async function expectNothingStored(postId: number) {
  expect(
    await t.knex('attachments').where({ parent_type: 'post', parent_id: postId }).count('* as n'),
  ).toEqual([{ n: '0' }]);
  expect(await t.bucketKeys(`posts/${postId}/`)).toEqual([]);
  expect(t.spoolFiles()).toEqual([]);
}

describe('limits', () => {
  it('refuses a file over MAX_FILE_BYTES with 413, after an earlier file was stored, and keeps nothing', async () => {
    const { postId, res } = await uploadToNewPost([
      [samples.png(10 * KIB), 'ok.png'],
      [samples.png(64 * KIB + 1), 'big.png'],
    ]);
    expect(res).toMatchObject({
      status: 413,
      body: { error: 'file "big.png" is larger than the limit of 64 KiB', code: 'PAYLOAD_TOO_LARGE' },
    });
    await expectNothingStored(postId);
  });

  it('accepts a file of exactly MAX_FILE_BYTES', async () => {
    const { res } = await uploadToNewPost([[samples.png(64 * KIB), 'edge.png']]);
    expect(res.status).toBe(201);
    expect(res.body[0].file_size).toBe(64 * KIB);
  });

  it('refuses more than MAX_FILES_PER_REQUEST files with 413 and keeps nothing', async () => {
    const { postId, res } = await uploadToNewPost(
      Array.from({ length: 4 }, (_, i): [Buffer, string] => [samples.png(KIB), `${i}.png`]),
    );
    expect(res).toMatchObject({ status: 413, body: { error: 'too many files: at most 3 per request' } });
    await expectNothingStored(postId);
  });

  it('refuses files totalling more than MAX_REQUEST_BYTES with 413 and keeps nothing', async () => {
    const { postId, res } = await uploadToNewPost([
      [samples.png(60 * KIB), 'a.png'],
      [samples.png(60 * KIB), 'b.png'],
    ]);
    expect(res).toMatchObject({
      status: 413,
      body: { error: 'the files of one request may total at most 100 KiB' },
    });
    await expectNothingStored(postId);
  });

  it('refuses a declared Content-Length over the request cap before reading the body', async () => {
    const postId = uniqueId();
    owners.addPost(postId, AUTHOR);
    const res = await request(t.app)
      .post(`/api/posts/${postId}/attachments`)
      .set('Authorization', bearer(t.tokens.sign(AUTHOR)))
      .set('Content-Type', 'multipart/form-data; boundary=x')
      .send(Buffer.alloc(1200 * KIB, 0x61));
    expect(res.status).toBe(413);
    await expectNothingStored(postId);
  });
});

describe('bad input', () => {
  it.each([
    ['an empty file', [[Buffer.alloc(0), 'empty.png']], 'files', 400, 'file "empty.png" is empty'],
    ['no files field', [[samples.png(), 'a.png']], 'attachment', 400, 'no files in the field "files"'],
    [
      'ELF bytes named .png',
      [[samples.elf(), 'photo.png']],
      'files',
      415,
      'file "photo.png" is not an allowed type (PNG, JPEG, GIF, WebP, PDF or plain text)',
    ],
    [
      'HTML bytes named .png',
      [[samples.html(), 'photo.png']],
      'files',
      415,
      'file "photo.png" is not an allowed type (PNG, JPEG, GIF, WebP, PDF or plain text)',
    ],
    [
      'HTML bytes named .txt',
      [[samples.html(), 'notes.txt']],
      'files',
      415,
      'file "notes.txt" is not an allowed type (PNG, JPEG, GIF, WebP, PDF or plain text)',
    ],
    [
      'PDF bytes named .png',
      [[samples.pdf(), 'photo.png']],
      'files',
      415,
      'file "photo.png" does not hold what its name says: its content is application/pdf',
    ],
  ] as Array<[string, Array<[Buffer, string]>, string, number, string]>)(
    'refuses %s and keeps nothing',
    async (_name, files, field, status, error) => {
      const { postId, res } = await uploadToNewPost(files, field);
      expect(res).toMatchObject({ status, body: { error } });
      await expectNothingStored(postId);
    },
  );

  it('refuses text that turns binary after the sniffed head, aborting the upload already under way', async () => {
    const bytes = Buffer.concat([samples.text(8 * KIB), Buffer.from([0x00, 0x01]), samples.text(KIB)]);
    const { postId, res } = await uploadToNewPost([[bytes, 'notes.txt']]);
    expect(res).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    await expectNothingStored(postId);
  });

  it('refuses a body that is not multipart with 415, and a broken one with 400', async () => {
    const postId = uniqueId();
    owners.addPost(postId, AUTHOR);
    const json = await request(t.app)
      .post(`/api/posts/${postId}/attachments`)
      .set('Authorization', bearer(t.tokens.sign(AUTHOR)))
      .send({ files: ['x'] });
    expect(json).toMatchObject({
      status: 415,
      body: { error: 'expected a multipart/form-data body with files in the field "files"' },
    });
    const broken = await request(t.app)
      .post(`/api/posts/${postId}/attachments`)
      .set('Authorization', bearer(t.tokens.sign(AUTHOR)))
      .set('Content-Type', 'multipart/form-data; boundary=zzz')
      .send('--zzz\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\nhello');
    expect(broken).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST' } });
    await expectNothingStored(postId);
  });
});

describe('file names', () => {
  it.each([
    ['../../etc/passwd.txt', 'passwd.txt'],
    ['..\\..\\windows\\win.ini.txt', 'win.ini.txt'],
    ['..', 'file'],
    ['re\u202eport\u0085\u200f.txt', 'report.txt'],
    [`${'a'.repeat(296)}.txt`, `${'a'.repeat(251)}.txt`],
  ])('stores %j as %j and serves it as the download name', async (raw, stored) => {
    const { res } = await uploadToNewPost([[samples.text(), raw]]);
    expect(res.status).toBe(201);
    expect(res.body[0].file_name).toBe(stored);
    expect([...(res.body[0].file_name as string)].length).toBeLessThanOrEqual(255);
    const file = await request(t.app).get(res.body[0].file_url);
    expect(file.headers['content-disposition']).toBe(
      `attachment; filename="${stored}"; filename*=UTF-8''${encodeURIComponent(stored)}`,
    );
    expect(file.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('keeps a non-ASCII name exactly in filename* and an ASCII stand-in in filename', async () => {
    const { res } = await uploadToNewPost([[samples.png(), 'фото 1.png']]);
    expect(res.body[0].file_name).toBe('фото 1.png');
    const file = await request(t.app).get(res.body[0].file_url);
    expect(file.headers['content-disposition']).toBe(
      `attachment; filename="____ 1.png"; filename*=UTF-8''${encodeURIComponent('фото 1.png')}`,
    );
  });

  it('never uses the client name in the object key', async () => {
    const { postId, res } = await uploadToNewPost([[samples.png(), 'same.png']]);
    const second = await uploadToNewPost([[samples.png(), 'same.png']]);
    const [key] = await t.bucketKeys(`posts/${postId}/`);
    expect(key).toMatch(new RegExp(`^${t.config.S3_KEY_PREFIX}posts/${postId}/[0-9a-f-]{36}$`));
    expect(res.body[0].id).not.toBe(second.res.body[0].id);
  });
});

describe('JSON bodies (attachments take none: 1 KiB at most)', () => {
  it('refuses a JSON body over 1 KiB with 413 before parsing it, a 350 000-key object too', async () => {
    const postId = uniqueId();
    owners.addPost(postId, AUTHOR);
    const wide = `{${Array.from({ length: 350_000 }, (_, i) => `"k${i}":0`).join(',')}}`;
    for (const body of [wide, JSON.stringify({ files: 'x'.repeat(2 * KIB) })]) {
      const res = await request(t.app)
        .post(`/api/posts/${postId}/attachments`)
        .set('Authorization', bearer(t.tokens.sign(AUTHOR)))
        .set('Content-Type', 'application/json')
        .send(body);
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        error: 'request body too large (at most 1kb)',
      });
    }
  });
});
