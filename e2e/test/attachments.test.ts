import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { api, gatewayUrl, newUser, uniq, type TestUser } from './client';

type Actor = 'owner' | 'other' | 'anonymous';

/** Straight at the bucket, as an operator would look: what the platform left there. */
const s3 = new S3Client({
  region: process.env.S3_REGION ?? 'us-east-1',
  endpoint: process.env.S3_ENDPOINT ?? 'http://127.0.0.1:9000',
  forcePathStyle: true,
  credentials: {
    accessKeyId: process.env.S3_ACCESS_KEY_ID ?? 'mpb-local',
    secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? 'mpb-local-secret',
  },
});
const BUCKET = process.env.S3_BUCKET ?? 'mpb-attachments';
// attachments' S3_KEY_PREFIX on the e2e platform: its database suffix without the underscore.
const KEY_PREFIX = `${(process.env.E2E_DB_SUFFIX || '_e2e').replace(/^_+/, '')}/`;

async function objectsOf(kind: 'post' | 'comment', id: number): Promise<string[]> {
  const out = await s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${KEY_PREFIX}${kind}s/${id}/` }),
  );
  return (out.Contents ?? []).map((c) => c.Key!);
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(40_000, 3),
]);

/** A multipart upload through the gateway (Node's FormData: the proxy sees a real multipart body). */
async function upload(
  path: string,
  token: string | undefined,
  files: Array<[Buffer, string]>,
  field = 'files',
) {
  const form = new FormData();
  // The client's declared type is deliberately wrong: the service reads the bytes.
  for (const [bytes, name] of files) form.append(field, new Blob([bytes], { type: 'image/png' }), name);
  const res = await fetch(`${gatewayUrl()}${path}`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function download(path: string): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(`${gatewayUrl()}${path}`, { signal: AbortSignal.timeout(20_000) });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

async function createPost(user: TestUser): Promise<number> {
  const res = await api('POST', '/api/posts', {
    token: user.token,
    body: { title: `Post ${uniq()}`, description: 'A post with files attached.', tag: 'e2e' },
  });
  if (res.status !== 201) throw new Error(`create post: ${res.status} ${res.text}`);
  return res.body.id as number;
}

async function createComment(user: TestUser, postId: number): Promise<number> {
  const res = await api('POST', `/api/posts/${postId}/comments`, {
    token: user.token,
    body: { text: 'files below' },
  });
  if (res.status !== 201) throw new Error(`create comment: ${res.status} ${res.text}`);
  return res.body.id as number;
}

describe('attachments through the gateway', () => {
  let owner: TestUser;
  let other: TestUser;
  const tokenOf = (actor: Actor) =>
    actor === 'owner' ? owner.token : actor === 'other' ? other.token : undefined;

  beforeAll(async () => {
    [owner, other] = await Promise.all([newUser(), newUser()]);
  });

  it.each(['post', 'comment'] as const)(
    'uploads to a %s, lists, downloads the same bytes, deletes, then downloads 404',
    async (kind) => {
      const postId = await createPost(owner);
      const id = kind === 'post' ? postId : await createComment(owner, postId);
      const text = Buffer.from('plain text, checked byte for byte\n');
      const created = await upload(`/api/${kind}s/${id}/attachments`, owner.token, [
        [PNG, 'picture.png'],
        [text, 'notes.txt'],
      ]);
      expect(created.status).toBe(201);
      expect(created.body).toEqual([
        expect.objectContaining({
          [`${kind}_id`]: id,
          file_type: 'image/png',
          file_size: PNG.length,
          file_name: 'picture.png',
        }),
        expect.objectContaining({
          [`${kind}_id`]: id,
          file_type: 'text/plain',
          file_size: text.length,
          file_name: 'notes.txt',
        }),
      ]);
      const [png] = created.body as Array<{ id: number; file_url: string }>;
      expect(png!.file_url).toBe(`/api/${kind}s/attachments/${png!.id}/file`);

      const list = await api('GET', `/api/${kind}s/${id}/attachments`);
      expect(list.body).toEqual(created.body);
      const file = await download(png!.file_url);
      expect(file.status).toBe(200);
      expect(Buffer.compare(file.bytes, PNG)).toBe(0);
      expect(file.headers.get('content-type')).toBe('image/png');
      expect(file.headers.get('x-content-type-options')).toBe('nosniff');
      expect(file.headers.get('content-disposition')).toContain('attachment; filename="picture.png"');
      expect(await objectsOf(kind, id)).toHaveLength(2);

      expect(
        (await api('DELETE', `/api/${kind}s/attachments/${png!.id}`, { token: owner.token })).status,
      ).toBe(204);
      expect((await download(png!.file_url)).status).toBe(404);
      expect(await objectsOf(kind, id)).toHaveLength(1);
      const again = await api('DELETE', `/api/${kind}s/attachments/${png!.id}`, { token: owner.token });
      expect(again).toMatchObject({ status: 404, body: { error: 'attachment not found' } });
    },
  );

  it('takes the largest request the limits allow (5 files of 10 MiB) through the gateway', async () => {
    const postId = await createPost(owner);
    const big = Buffer.alloc(10 * 1024 * 1024, 0x62);
    const res = await upload(
      `/api/posts/${postId}/attachments`,
      owner.token,
      Array.from({ length: 5 }, (_, i): [Buffer, string] => [big, `${i}.txt`]),
    );
    expect(res.status).toBe(201);
    expect(res.body.map((a: { file_size: number }) => a.file_size)).toEqual(Array(5).fill(big.length));
    expect(await objectsOf('post', postId)).toHaveLength(5);
  });

  describe('permission matrix', () => {
    const matrix: Array<[string, Actor, number]> = [
      ['upload', 'owner', 201],
      ['upload', 'other', 403],
      ['upload', 'anonymous', 401],
      ['list', 'owner', 200],
      ['list', 'other', 200],
      ['list', 'anonymous', 200],
      ['download', 'owner', 200],
      ['download', 'other', 200],
      ['download', 'anonymous', 200],
      ['delete', 'owner', 204],
      ['delete', 'other', 403],
      ['delete', 'anonymous', 401],
    ];

    it.each(matrix)('%s by %s → %i', async (action, actor, expected) => {
      const postId = await createPost(owner);
      const [existing] = (await upload(`/api/posts/${postId}/attachments`, owner.token, [[PNG, 'a.png']]))
        .body as Array<{
        id: number;
        file_url: string;
      }>;
      const token = tokenOf(actor);
      const headers = token ? { authorization: `Bearer ${token}` } : undefined;
      let status: number;
      if (action === 'upload')
        status = (await upload(`/api/posts/${postId}/attachments`, token, [[PNG, 'b.png']])).status;
      else if (action === 'list')
        status = (await api('GET', `/api/posts/${postId}/attachments`, { headers })).status;
      else if (action === 'download')
        status = (await fetch(`${gatewayUrl()}${existing!.file_url}`, { headers })).status;
      else status = (await api('DELETE', `/api/posts/attachments/${existing!.id}`, { token })).status;
      expect(status).toBe(expected);
      const remaining =
        action === 'delete' && expected === 204 ? 0 : action === 'upload' && expected === 201 ? 2 : 1;
      expect(await objectsOf('post', postId)).toHaveLength(remaining);
    });
  });

  describe('bad input', () => {
    let postId: number;
    beforeAll(async () => {
      postId = await createPost(owner);
    });

    it.each([
      ['a file over 10 MiB', [[Buffer.alloc(10 * 1024 * 1024 + 1, 0x61), 'big.txt']], 'files', 413],
      ['eleven files', Array.from({ length: 11 }, (_, i) => [PNG, `${i}.png`]), 'files', 413],
      ['an empty file', [[Buffer.alloc(0), 'empty.png']], 'files', 400],
      ['no files field', [[PNG, 'a.png']], 'file', 400],
      [
        'ELF bytes named .png',
        [[Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01'), Buffer.alloc(100)]), 'x.png']],
        'files',
        415,
      ],
      [
        'HTML bytes named .png',
        [[Buffer.from('<html><script>alert(1)</script></html>'), 'x.png']],
        'files',
        415,
      ],
    ] as Array<[string, Array<[Buffer, string]>, string, number]>)(
      'refuses %s and leaves nothing in the bucket',
      async (_name, files, field, status) => {
        const res = await upload(`/api/posts/${postId}/attachments`, owner.token, files, field);
        expect(res.status).toBe(status);
        expect(res.body.error).toEqual(expect.any(String));
        expect(await objectsOf('post', postId)).toEqual([]);
        expect((await api('GET', `/api/posts/${postId}/attachments`)).body).toEqual([]);
      },
    );

    it.each([
      ['../../../etc/passwd.txt', 'passwd.txt'],
      [`${'n'.repeat(296)}.txt`, `${'n'.repeat(251)}.txt`],
    ])("stores the name %j as %j; the key is the server's", async (raw, stored) => {
      const id = await createPost(owner);
      const res = await upload(`/api/posts/${id}/attachments`, owner.token, [[Buffer.from('text\n'), raw]]);
      expect(res.status).toBe(201);
      expect(res.body[0].file_name).toBe(stored);
      const [key] = await objectsOf('post', id);
      expect(key).toMatch(new RegExp(`^${KEY_PREFIX}posts/${id}/[0-9a-f-]{36}$`));
    });
  });

  describe('cascade', () => {
    it('deleting a post removes its objects, and those of its comments, from the bucket within seconds', async () => {
      const postId = await createPost(owner);
      const commentId = await createComment(owner, postId);
      await upload(`/api/posts/${postId}/attachments`, owner.token, [[PNG, 'p.png']]);
      await upload(`/api/comments/${commentId}/attachments`, owner.token, [[PNG, 'c.png']]);
      expect(await objectsOf('post', postId)).toHaveLength(1);
      expect(await objectsOf('comment', commentId)).toHaveLength(1);
      expect((await api('DELETE', `/api/posts/${postId}`, { token: owner.token })).status).toBe(204);
      await eventually(async () => (await objectsOf('post', postId)).length === 0);
      await eventually(async () => (await objectsOf('comment', commentId)).length === 0);
      expect(await api('GET', `/api/posts/${postId}/attachments`)).toMatchObject({
        status: 404,
        body: { error: 'post not found' },
      });
    });

    it('deleting a comment removes its objects from the bucket within seconds', async () => {
      const postId = await createPost(owner);
      const commentId = await createComment(owner, postId);
      await upload(`/api/comments/${commentId}/attachments`, owner.token, [[PNG, 'c.png']]);
      expect(await objectsOf('comment', commentId)).toHaveLength(1);
      expect((await api('DELETE', `/api/comments/${commentId}`, { token: owner.token })).status).toBe(204);
      await eventually(async () => (await objectsOf('comment', commentId)).length === 0);
      const late = await upload(`/api/comments/${commentId}/attachments`, owner.token, [[PNG, 'late.png']]);
      expect(late.status).toBe(404);
    });
  });
});
