import request from 'supertest';
import { createEnvelope, EventTypes } from '@mpb/contracts';
import { parentEventsHandler } from '../src/events/parent-events';
import { bearer, samples, startTestAttachments, uniqueId, type TestAttachments } from './helpers/harness';
import { OwnersStandIn } from './helpers/owners-stand-in';

// No consumer runs: post.deleted and comment.deleted never arrive, as while Kafka is down.
const AUTHOR = 51;
const owners = new OwnersStandIn();
let t: TestAttachments;
let cached: TestAttachments;

beforeAll(async () => {
  const address = await owners.start();
  t = await startTestAttachments({ ownersAddress: address });
  // A replica that trusts "live" for a minute: only the deletion event (or a read that finds out) clears it.
  cached = await startTestAttachments({
    ownersAddress: address,
    config: { PARENT_LIVENESS_CACHE_MS: '60000' },
  });
});

afterAll(async () => {
  await t?.close();
  await cached?.close();
  await owners.stop();
});

type Kind = 'post' | 'comment';
interface Stored {
  id: number;
  file_url: string;
}

async function withFiles(
  app: TestAttachments,
  kind: Kind,
  count = 2,
): Promise<{ id: number; files: Stored[] }> {
  const id = uniqueId();
  if (kind === 'post') owners.addPost(id, AUTHOR);
  else owners.addComment(id, AUTHOR);
  let req = request(app.app)
    .post(`/api/${kind}s/${id}/attachments`)
    .set('Authorization', bearer(app.tokens.sign(AUTHOR)));
  for (let i = 0; i < count; i += 1)
    req = req.attach('files', samples.png(), { filename: `${i}.png`, contentType: 'image/png' });
  const res = await req;
  expect(res.status).toBe(201);
  return { id, files: res.body as Stored[] };
}

const markDeleted = (kind: Kind, id: number) =>
  (kind === 'post' ? owners.posts : owners.comments).set(id, { author: AUTHOR, deleted: true });

/** The list, then each file's metadata and bytes. */
const readsOf = (kind: Kind, parent: { id: number; files: Stored[] }) => [
  { path: `/api/${kind}s/${parent.id}/attachments`, error: `${kind} not found` },
  ...parent.files.flatMap((f) => [
    { path: `/api/${kind}s/attachments/${f.id}`, error: 'attachment not found' },
    { path: f.file_url, error: 'attachment not found' },
  ]),
];

async function expectHidden(app: TestAttachments, kind: Kind, parent: { id: number; files: Stored[] }) {
  for (const { path, error } of readsOf(kind, parent)) {
    const res = await request(app.app).get(path);
    expect({ path, status: res.status, error: res.body.error }).toEqual({ path, status: 404, error });
  }
}

async function expectServed(app: TestAttachments, kind: Kind, parent: { id: number; files: Stored[] }) {
  for (const { path } of readsOf(kind, parent))
    expect({ path, status: (await request(app.app).get(path)).status }).toEqual({ path, status: 200 });
}

describe("a deleted parent's attachments, before its deletion event arrives", () => {
  it.each(['post', 'comment'] as const)(
    'a deleted %s: list, metadata and downloads answer 404 right after the delete; a live one is unaffected',
    async (kind) => {
      const gone = await withFiles(t, kind);
      const live = await withFiles(t, kind);
      await expectServed(t, kind, gone);

      markDeleted(kind, gone.id);

      await expectHidden(t, kind, gone);
      await expectServed(t, kind, live);
      // Nothing was removed yet: rows and objects wait for the cascade.
      expect(await t.knex('attachments').where({ parent_type: kind, parent_id: gone.id })).toHaveLength(2);
      expect(await t.bucketKeys(`${kind}s/${gone.id}/`)).toHaveLength(2);
    },
  );

  it('remembers a deleted parent: later reads do not ask its service again', async () => {
    const gone = await withFiles(t, 'post', 1);
    markDeleted('post', gone.id);
    await expectHidden(t, 'post', gone);
    const asked = owners.asked.length;
    await expectHidden(t, 'post', gone);
    expect(owners.asked.length).toBe(asked);
  });

  it.each([
    ['post', EventTypes.PostDeleted],
    ['comment', EventTypes.CommentDeleted],
  ] as const)(
    'a %s is hidden at once on a replica that keeps live answers, when its deletion event reaches it',
    async (kind, type) => {
      const gone = await withFiles(cached, kind, 1);
      await expectServed(cached, kind, gone);
      markDeleted(kind, gone.id);
      const handle = parentEventsHandler({
        attachments: cached.context.attachments,
        consumer: cached.config.KAFKA_GROUP_ID,
        logger: cached.logger,
      });
      const event = createEnvelope({
        type,
        aggregateType: kind,
        aggregateId: gone.id,
        payload: { id: gone.id },
        source: 'test',
      });
      // The handler runs the cascade too; the read must be hidden even if the cascade had not run yet.
      const cascade = handle(event);
      await expectHidden(cached, kind, gone);
      await cascade;
    },
  );
});

describe('reads that need to know a parent is live', () => {
  it('do not ask the owner service for a parent without attachments', async () => {
    const id = uniqueId();
    owners.addPost(id, AUTHOR);
    const res = await request(t.app).get(`/api/posts/${id}/attachments`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
    expect(owners.asked).not.toContain(`post:${id}`);
  });

  it('answer 503 naming the owner service when it cannot answer, and never serve possibly-deleted files', async () => {
    const post = await withFiles(t, 'post', 1);
    const comment = await withFiles(t, 'comment', 1);
    const empty = uniqueId();
    await owners.stop();
    try {
      for (const [kind, parent] of [
        ['post', post],
        ['comment', comment],
      ] as const) {
        for (const { path } of readsOf(kind, parent)) {
          const res = await request(t.app).get(path);
          expect({ path, status: res.status, error: res.body.error }).toEqual({
            path,
            status: 503,
            error: `${kind}s service unavailable`,
          });
        }
      }
      expect((await request(t.app).get(`/api/posts/${empty}/attachments`)).body).toEqual([]);
    } finally {
      await owners.start(owners.port);
    }
  });
});
