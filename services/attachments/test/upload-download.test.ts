import request from 'supertest';
import { waitFor } from '@mpb/test-kit';
import { bearer, samples, startTestAttachments, uniqueId, type TestAttachments } from './helpers/harness';
import { OwnersStandIn } from './helpers/owners-stand-in';

let t: TestAttachments;
const owners = new OwnersStandIn();
const AUTHOR = 11;
const OTHER = 12;

beforeAll(async () => {
  t = await startTestAttachments({ ownersAddress: await owners.start() });
});

afterAll(async () => {
  await t.close();
  await owners.stop();
});

const upload = (path: string, userId: number | undefined, files: Array<[Buffer, string]>) => {
  let req = request(t.app).post(path);
  if (userId !== undefined) req = req.set('Authorization', bearer(t.tokens.sign(userId)));
  for (const [bytes, name] of files)
    req = req.attach('files', bytes, { filename: name, contentType: 'application/octet-stream' });
  return req;
};

describe.each(['post', 'comment'] as const)('%s attachments', (kind) => {
  const parentId = uniqueId();
  const base = `/api/${kind}s`;
  const field = `${kind}_id`;

  beforeAll(() => {
    if (kind === 'post') owners.addPost(parentId, AUTHOR);
    else owners.addComment(parentId, AUTHOR);
  });

  it('uploads, lists, serves the same bytes, deletes the object, then answers 404', async () => {
    const png = samples.png(300_000);
    const pdf = samples.pdf();
    const created = await upload(`${base}/${parentId}/attachments`, AUTHOR, [
      [png, 'photo.png'],
      [pdf, 'doc.pdf'],
    ]);
    expect(created.status).toBe(201);
    expect(created.body).toHaveLength(2);
    const [a, b] = created.body as Array<Record<string, unknown>>;
    expect(a).toEqual({
      id: expect.any(Number),
      [field]: parentId,
      file_url: `${base}/attachments/${a!.id}/file`,
      file_type: 'image/png',
      file_size: png.length,
      file_name: 'photo.png',
      created_at: expect.any(String),
    });
    expect(b).toMatchObject({ file_type: 'application/pdf', file_size: pdf.length, file_name: 'doc.pdf' });
    expect(await t.bucketKeys(`${kind}s/${parentId}/`)).toHaveLength(2);

    const list = await request(t.app).get(`${base}/${parentId}/attachments`);
    expect(list.status).toBe(200);
    expect(list.body).toEqual(created.body);
    expect((await request(t.app).get(`${base}/attachments/${a!.id}`)).body).toEqual(a);

    const file = await request(t.app)
      .get(a!.file_url as string)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(file.status).toBe(200);
    expect(Buffer.compare(file.body as Buffer, png)).toBe(0);
    expect(file.headers).toMatchObject({
      'content-type': 'image/png',
      'content-length': String(png.length),
      'x-content-type-options': 'nosniff',
      'content-disposition': `attachment; filename="photo.png"; filename*=UTF-8''photo.png`,
    });

    const del = await request(t.app)
      .delete(`${base}/attachments/${a!.id}`)
      .set('Authorization', bearer(t.tokens.sign(AUTHOR)));
    expect(del.status).toBe(204);
    expect((await request(t.app).get(a!.file_url as string)).status).toBe(404);
    expect((await request(t.app).get(`${base}/attachments/${a!.id}`)).status).toBe(404);
    const again = await request(t.app)
      .delete(`${base}/attachments/${a!.id}`)
      .set('Authorization', bearer(t.tokens.sign(AUTHOR)));
    expect(again).toMatchObject({ status: 404, body: { error: 'attachment not found' } });
    expect(await t.bucketKeys(`${kind}s/${parentId}/`)).toHaveLength(1);
  });

  it('lets only the author upload and delete; anyone lists and downloads', async () => {
    const [mine] = (await upload(`${base}/${parentId}/attachments`, AUTHOR, [[samples.text(), 'a.txt']]))
      .body as Array<{
      id: number;
      file_url: string;
    }>;
    const other = await upload(`${base}/${parentId}/attachments`, OTHER, [[samples.text(), 'b.txt']]);
    expect(other).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(
      (await upload(`${base}/${parentId}/attachments`, undefined, [[samples.text(), 'c.txt']])).status,
    ).toBe(401);
    expect((await request(t.app).get(`${base}/${parentId}/attachments`)).status).toBe(200);
    expect((await request(t.app).get(mine!.file_url)).status).toBe(200);
    const otherDelete = await request(t.app)
      .delete(`${base}/attachments/${mine!.id}`)
      .set('Authorization', bearer(t.tokens.sign(OTHER)));
    expect(otherDelete).toMatchObject({
      status: 403,
      body: { error: 'you can delete only your own attachments' },
    });
    expect((await request(t.app).delete(`${base}/attachments/${mine!.id}`)).status).toBe(401);
    expect((await request(t.app).get(mine!.file_url)).status).toBe(200);
  });

  it("refuses a session's tokens within a second of auth listing it as revoked", async () => {
    const sessionId = `attachments-${uniqueId()}`;
    const token = t.tokens.sign(AUTHOR, { sessionId });
    const send = () =>
      request(t.app)
        .post(`${base}/${parentId}/attachments`)
        .set('Authorization', bearer(token))
        .attach('files', samples.text(), { filename: 'r.txt', contentType: 'text/plain' });
    expect((await send()).status).toBe(201);
    t.revocationFeed.revoke(sessionId);
    const revokedAt = Date.now();
    const refused = await waitFor(
      async () => {
        const res = await send();
        return res.status === 401 ? res : undefined;
      },
      2000,
      20,
    );
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expect(refused.body).toMatchObject({ error: 'invalid token' });
  });

  it('reads ids with leading zeros as the old API did, like every other service', async () => {
    const created = await upload(`${base}/00${parentId}/attachments`, AUTHOR, [[samples.text(), 'z.txt']]);
    expect(created).toMatchObject({ status: 201, body: [{ [field]: parentId }] });
    const id = (created.body as Array<{ id: number }>)[0]!.id;
    const list = await request(t.app).get(`${base}/00${parentId}/attachments`);
    expect(list.body.map((a: { id: number }) => a.id)).toContain(id);
    expect((await request(t.app).get(`${base}/attachments/00${id}`)).body).toMatchObject({ id });
    expect((await request(t.app).get(`${base}/attachments/00${id}/file`)).status).toBe(200);
    const del = await request(t.app)
      .delete(`${base}/attachments/00${id}`)
      .set('Authorization', bearer(t.tokens.sign(AUTHOR)));
    expect(del.status).toBe(204);
    for (const bad of ['+1', '1.5', '1e3', '-1', '9007199254740993']) {
      expect((await request(t.app).get(`${base}/attachments/${bad}`)).body).toMatchObject({
        error: 'invalid attachment id',
      });
    }
  });

  it('answers the whole list without page parameters, as the old API did, and pages it when asked', async () => {
    const paged = uniqueId();
    if (kind === 'post') owners.addPost(paged, AUTHOR);
    else owners.addComment(paged, AUTHOR);
    const files = Array.from({ length: 5 }, (_, i): [Buffer, string] => [samples.text(), `p${i}.txt`]);
    const created = await upload(`${base}/${paged}/attachments`, AUTHOR, files);
    expect(created.status).toBe(201);
    const ids = (created.body as Array<{ id: number }>).map((a) => a.id);
    const idsOf = (res: request.Response) => (res.body as Array<{ id: number }>).map((a) => a.id);

    const whole = await request(t.app).get(`${base}/${paged}/attachments`);
    expect(idsOf(whole)).toEqual(ids);
    expect(whole.headers['x-total-count']).toBeUndefined();
    expect(whole.headers.link).toBeUndefined();

    const first = await request(t.app).get(`${base}/${paged}/attachments?limit=2`);
    expect(idsOf(first)).toEqual(ids.slice(0, 2));
    expect(first.headers['x-total-count']).toBe('5');
    expect(first.headers.link).toBe(
      [
        `<${base}/${paged}/attachments?limit=2&page=1>; rel="first"`,
        `<${base}/${paged}/attachments?limit=2&page=2>; rel="next"`,
        `<${base}/${paged}/attachments?limit=2&page=3>; rel="last"`,
      ].join(', '),
    );
    const last = await request(t.app).get(`${base}/${paged}/attachments?page=3&limit=2`);
    expect(idsOf(last)).toEqual(ids.slice(4));
    // `page` alone pages too, with the default limit of 20.
    const byDefault = await request(t.app).get(`${base}/${paged}/attachments?page=1`);
    expect(idsOf(byDefault)).toEqual(ids);
    expect(byDefault.headers['x-total-count']).toBe('5');
    const beyond = await request(t.app).get(`${base}/${paged}/attachments?page=9&limit=2`);
    expect(beyond).toMatchObject({ status: 200, body: [] });
    expect(beyond.headers['x-total-count']).toBe('5');

    for (const [query, error] of [
      ['page=0', 'invalid page'],
      ['limit=abc', 'invalid limit'],
      ['page=%2B2', 'invalid page'],
      ['page=502', 'page must be at most 501 for limit 20: at most 10000 attachments are skipped'],
    ]) {
      expect(await request(t.app).get(`${base}/${paged}/attachments?${query}`)).toMatchObject({
        status: 400,
        body: { error, code: 'BAD_REQUEST' },
      });
    }

    // A page past the end of a deleted parent's list is 404 like the rest of it, not [].
    (kind === 'post' ? owners.posts : owners.comments).set(paged, { author: AUTHOR, deleted: true });
    expect(await request(t.app).get(`${base}/${paged}/attachments?page=9&limit=2`)).toMatchObject({
      status: 404,
      body: { error: `${kind} not found` },
    });
  });

  it('answers 404 for an unknown or deleted parent, and 400 for bad ids', async () => {
    const unknown = await upload(`${base}/${uniqueId()}/attachments`, AUTHOR, [[samples.png(), 'x.png']]);
    expect(unknown).toMatchObject({ status: 404, body: { error: `${kind} not found` } });
    const gone = uniqueId();
    (kind === 'post' ? owners.posts : owners.comments).set(gone, { author: AUTHOR, deleted: true });
    expect((await upload(`${base}/${gone}/attachments`, AUTHOR, [[samples.png(), 'x.png']])).status).toBe(
      404,
    );
    expect((await upload(`${base}/abc/attachments`, AUTHOR, [[samples.png(), 'x.png']])).body).toMatchObject({
      error: `invalid ${kind} id`,
    });
    expect((await request(t.app).get(`${base}/attachments/0/file`)).body).toMatchObject({
      error: 'invalid attachment id',
    });
    expect(await t.bucketKeys(`${kind}s/${gone}/`)).toEqual([]);
  });
});
