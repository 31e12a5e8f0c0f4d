import { Client } from 'pg';
import { api, gatewayUrl, newUser, uniq, type TestUser } from './client';

// The cascade (post.deleted → comments → comment.deleted → attachments) is held back by row locks
// this test takes in the services' own databases: the consumers receive the events but cannot
// change the rows, exactly as if Kafka did not deliver them. Reads must not wait for it.
const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const DB_SUFFIX = process.env.E2E_DB_SUFFIX || '_e2e';

async function connect(service: 'comments' | 'attachments'): Promise<Client> {
  const client = new Client({ connectionString: `${PG_URL}/mpb_${service}${DB_SUFFIX}` });
  await client.connect();
  return client;
}

/** Locks rows in an open transaction until `release`; plain reads of them still go through. */
async function holdRows(client: Client, sql: string, params: unknown[]): Promise<() => Promise<void>> {
  await client.query('begin');
  await client.query(`${sql} for update`, params);
  return async () => {
    await client.query('rollback');
  };
}

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(2048, 5),
]);

async function upload(path: string, token: string): Promise<{ id: number; file_url: string }> {
  const form = new FormData();
  form.append('files', new Blob([PNG], { type: 'image/png' }), 'p.png');
  const res = await fetch(`${gatewayUrl()}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await res.json()) as Array<{ id: number; file_url: string }>;
  if (res.status !== 201) throw new Error(`upload ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body[0]!;
}

interface Thread {
  postId: number;
  commentId: number;
  postFile: { id: number; file_url: string };
  commentFile: { id: number; file_url: string };
}

async function thread(user: TestUser): Promise<Thread> {
  const post = await api('POST', '/api/posts', {
    token: user.token,
    body: { title: `Post ${uniq()}`, description: 'comments and files', tag: 'e2e' },
  });
  const postId = post.body.id as number;
  const comment = await api('POST', `/api/posts/${postId}/comments`, {
    token: user.token,
    body: { text: 'hi' },
  });
  const commentId = comment.body.id as number;
  return {
    postId,
    commentId,
    postFile: await upload(`/api/posts/${postId}/attachments`, user.token),
    commentFile: await upload(`/api/comments/${commentId}/attachments`, user.token),
  };
}

/** Every public read of a post's comments and files, and the answer a deleted post gives. */
const readsOf = (t: Thread): Array<[string, string]> => [
  [`/api/posts/${t.postId}/comments`, 'post not found'],
  [`/api/comments?post_id=${t.postId}`, 'post not found'],
  [`/api/comments/${t.commentId}`, 'comment not found'],
  [`/api/posts/${t.postId}/attachments`, 'post not found'],
  [`/api/posts/attachments/${t.postFile.id}`, 'attachment not found'],
  [t.postFile.file_url, 'attachment not found'],
  [`/api/comments/${t.commentId}/attachments`, 'comment not found'],
  [`/api/comments/attachments/${t.commentFile.id}`, 'attachment not found'],
  [t.commentFile.file_url, 'attachment not found'],
];

async function statusOf(path: string): Promise<{ path: string; status: number; error?: string }> {
  const res = await fetch(`${gatewayUrl()}${path}`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const error = res.status >= 400 ? (JSON.parse(text) as { error: string }).error : undefined;
  return { path, status: res.status, ...(error ? { error } : {}) };
}

describe('deleted content while the cascade cannot run', () => {
  let owner: TestUser;
  let comments: Client;
  let attachments: Client;

  beforeAll(async () => {
    owner = await newUser();
    comments = await connect('comments');
    attachments = await connect('attachments');
  });

  afterAll(async () => {
    await comments?.end();
    await attachments?.end();
  });

  it("hides a deleted post's comments and files, and its comments' files, right after the delete", async () => {
    const gone = await thread(owner);
    const live = await thread(owner);
    for (const [path] of readsOf(gone)) expect(await statusOf(path)).toEqual({ path, status: 200 });

    const releaseComments = await holdRows(comments, 'select id from comments where post_id = $1', [
      gone.postId,
    ]);
    const releaseFiles = await holdRows(
      attachments,
      "select id from attachments where parent_type = 'post' and parent_id = $1",
      [gone.postId],
    );
    try {
      expect((await api('DELETE', `/api/posts/${gone.postId}`, { token: owner.token })).status).toBe(204);
      for (const [path, error] of readsOf(gone))
        expect(await statusOf(path)).toEqual({ path, status: 404, error });
      for (const [path] of readsOf(live)) expect(await statusOf(path)).toEqual({ path, status: 200 });

      // The cascade has not run: the rows are all still there.
      const probe = await connect('comments');
      try {
        const { rows } = await probe.query(
          'select id from comments where post_id = $1 and deleted_at is null',
          [gone.postId],
        );
        expect(rows).toHaveLength(1);
      } finally {
        await probe.end();
      }
    } finally {
      await releaseComments();
      await releaseFiles();
    }

    // Once it may run, the cascade removes them, and the answers stay the same.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { rows } = await attachments.query(
        "select id from attachments where (parent_type = 'post' and parent_id = $1) or (parent_type = 'comment' and parent_id = $2)",
        [gone.postId, gone.commentId],
      );
      if (rows.length === 0) break;
      if (Date.now() > deadline) throw new Error('the cascade did not remove the attachments within 15 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const [path, error] of readsOf(gone))
      expect(await statusOf(path)).toEqual({ path, status: 404, error });
  });

  it("hides a deleted comment's files right after the delete", async () => {
    const t = await thread(owner);
    const release = await holdRows(
      attachments,
      "select id from attachments where parent_type = 'comment' and parent_id = $1",
      [t.commentId],
    );
    try {
      expect((await api('DELETE', `/api/comments/${t.commentId}`, { token: owner.token })).status).toBe(204);
      for (const [path, error] of [
        [`/api/comments/${t.commentId}/attachments`, 'comment not found'],
        [`/api/comments/attachments/${t.commentFile.id}`, 'attachment not found'],
        [t.commentFile.file_url, 'attachment not found'],
      ])
        expect(await statusOf(path!)).toEqual({ path, status: 404, error });
      // The post and its own file are untouched.
      expect(await statusOf(t.postFile.file_url)).toEqual({ path: t.postFile.file_url, status: 200 });
    } finally {
      await release();
    }
  });
});
