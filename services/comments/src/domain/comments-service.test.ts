import { contractViolations, type EventEnvelope } from '@mpb/contracts';
import { createLogger } from '@mpb/logger';
import type { Comment } from './comment';
import { CommentsService, Messages } from './comments-service';
import type { CascadeStep, ChangeOutcome, CommentStore, CreateOutcome, PostDirectory } from './ports';

const at = new Date('2026-02-01T10:00:00Z');
const stored = (o: Partial<Comment> = {}): Comment => ({
  id: 1,
  postId: 7,
  userId: 3,
  text: 'hi',
  like: 0,
  blocked: false,
  createdAt: at,
  updatedAt: at,
  deletedAt: null,
  ...o,
});

function setup(
  o: {
    posts?: PostDirectory['postExists'];
    create?: CreateOutcome;
    change?: ChangeOutcome;
    steps?: CascadeStep[];
  } = {},
) {
  const calls = { created: 0, events: [] as EventEnvelope<unknown>[], cascadeChunks: [] as number[] };
  const steps = [...(o.steps ?? [])];
  const comments: CommentStore = {
    listLiveByPost: async () => ({ comments: [], total: 0, postDeleted: false }),
    findById: async (id, q) => (id === 1 ? stored({ deletedAt: q?.includeDeleted ? at : null }) : undefined),
    createWithEvent: async (input, event) => {
      calls.created += 1;
      const result = o.create ?? { outcome: 'created', comment: stored({ ...input }) };
      if (result.outcome === 'created') calls.events.push(event(result.comment));
      return result;
    },
    updateTextWithEvent: async (_id, _user, text, event) => {
      const result = o.change ?? { outcome: 'changed', comment: stored({ text }) };
      if (result.outcome === 'changed') calls.events.push(event(result.comment));
      return result;
    },
    softDeleteWithEvent: async (_id, _user, event) => {
      const result = o.change ?? { outcome: 'changed', comment: stored({ deletedAt: at }) };
      if (result.outcome === 'changed') calls.events.push(event(result.comment));
      return result;
    },
    deleteCommentsOfDeletedPost: async ({ chunkSize, event }) => {
      calls.cascadeChunks.push(chunkSize);
      const step = steps.shift() ?? { alreadyProcessed: false, deleted: 0, done: true };
      for (let i = 0; i < step.deleted; i += 1)
        calls.events.push(event(stored({ id: 100 + i, deletedAt: at })));
      return step;
    },
  };
  const posts: PostDirectory = { postExists: o.posts ?? (async () => true) };
  const service = new CommentsService({
    comments,
    posts,
    logger: createLogger({ service: 'comments-test', level: 'silent' }),
    cascadeChunkSize: 2,
  });
  return { service, calls };
}

const input = { postId: 7, userId: 3, text: 'hi' };

describe('creating a comment', () => {
  it('stores it with a comment.created event carrying the request trace', async () => {
    const { service, calls } = setup();
    const traceparent = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
    await service.create(input, { trace: { traceparent } });
    expect(calls.events).toHaveLength(1);
    expect(calls.events[0]).toMatchObject({
      type: 'comment.created',
      aggregate_type: 'comment',
      aggregate_id: '1',
      source: 'comments',
      payload: { id: 1, post_id: 7, user_id: 3, created_at: at.toISOString() },
      trace: { traceparent },
    });
    expect(contractViolations(calls.events[0]!.type, calls.events[0]!.payload)).toEqual([]);
  });

  it('answers 404 post not found when posts does not know the post, storing nothing', async () => {
    const { service, calls } = setup({ posts: async () => false });
    await expect(service.create(input)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: Messages.postNotFound,
    });
    expect(calls.created).toBe(0);
  });

  it('answers 503 posts service unavailable when posts cannot answer, storing nothing', async () => {
    const { service, calls } = setup({
      posts: async () => {
        throw new Error('connect ECONNREFUSED');
      },
    });
    await expect(service.create(input)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: Messages.postsUnavailable,
    });
    expect(calls.created).toBe(0);
  });

  it('lets a deletion already applied here win over a stale yes from posts', async () => {
    const { service } = setup({ create: { outcome: 'post_deleted' } });
    await expect(service.create(input)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: Messages.postNotFound,
    });
  });
});

describe('changing a comment', () => {
  it.each([
    ['update', 'not_found', 'NOT_FOUND', Messages.commentNotFound],
    ['update', 'forbidden', 'FORBIDDEN', Messages.updateForbidden],
    ['delete', 'not_found', 'NOT_FOUND', Messages.commentNotFound],
    ['delete', 'forbidden', 'FORBIDDEN', Messages.deleteForbidden],
  ] as const)('%s: %s becomes %s with the old text', async (action, outcome, code, message) => {
    const { service, calls } = setup({ change: { outcome } });
    const attempt = action === 'update' ? service.update(1, 3, 'x') : service.delete(1, 3);
    await expect(attempt).rejects.toMatchObject({ code, message });
    expect(calls.events).toHaveLength(0);
  });

  it('emits comment.updated and comment.deleted with reason user', async () => {
    const { service, calls } = setup();
    await service.update(1, 3, 'new');
    await service.delete(1, 3);
    expect(calls.events.map((e) => e.type)).toEqual(['comment.updated', 'comment.deleted']);
    expect(calls.events[0]!.payload).toEqual({ id: 1, post_id: 7, user_id: 3, updated_at: at.toISOString() });
    expect(calls.events[1]!.payload).toEqual({
      id: 1,
      post_id: 7,
      user_id: 3,
      deleted_at: at.toISOString(),
      reason: 'user',
    });
    for (const e of calls.events) expect(contractViolations(e.type, e.payload)).toEqual([]);
  });
});

describe('reading', () => {
  it('hides deleted comments unless another service asks for them', async () => {
    const { service } = setup();
    await expect(service.get(2)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: Messages.commentNotFound,
    });
    expect((await service.lookup(1, true)).deletedAt).toEqual(at);
  });
});

describe('post deletion cascade', () => {
  it('works chunk by chunk until nothing is left, with reason post_deleted', async () => {
    const { service, calls } = setup({
      steps: [
        { alreadyProcessed: false, deleted: 2, done: false },
        { alreadyProcessed: false, deleted: 2, done: false },
        { alreadyProcessed: false, deleted: 1, done: true },
      ],
    });
    const trace = { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` };
    const deleted = await service.removeCommentsOfDeletedPost(7, { consumer: 'g', eventId: 'e', trace });
    expect(deleted).toBe(5);
    expect(calls.cascadeChunks).toEqual([2, 2, 2]);
    expect(
      calls.events.every((e) => e.type === 'comment.deleted' && e.trace.traceparent === trace.traceparent),
    ).toBe(true);
    expect(calls.events.map((e) => (e.payload as { reason: string }).reason)).toEqual(
      Array(5).fill('post_deleted'),
    );
    for (const e of calls.events) expect(contractViolations(e.type, e.payload)).toEqual([]);
  });

  it('stops at once on a redelivery', async () => {
    const { service, calls } = setup({ steps: [{ alreadyProcessed: true, deleted: 0, done: true }] });
    expect(await service.removeCommentsOfDeletedPost(7, { consumer: 'g', eventId: 'e' })).toBe(0);
    expect(calls.cascadeChunks).toHaveLength(1);
  });
});
