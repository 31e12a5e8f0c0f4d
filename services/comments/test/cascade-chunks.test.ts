import { randomUUID } from 'node:crypto';
import { EventTypes } from '@mpb/contracts';
import { createLogger } from '@mpb/logger';
import { CommentRepository } from '../src/data/comment-repository';
import { CommentsService } from '../src/domain/comments-service';
import type { Comment } from '../src/domain/comment';
import { uniquePostId } from './helpers/factories';
import { prepareDatabase } from './helpers/harness';
import type { Knex } from 'knex';

let knex: Knex;
let repository: CommentRepository;
const logger = createLogger({ service: 'comments-test', level: 'silent' });

beforeAll(async () => {
  knex = await prepareDatabase();
  repository = new CommentRepository(knex);
});

afterAll(async () => {
  await knex.destroy();
});

/** The service over the real repository, with a posts stand-in that always says yes. */
const service = (chunkSize: number) =>
  new CommentsService({
    comments: repository,
    posts: { postExists: async () => true },
    logger,
    cascadeChunkSize: chunkSize,
  });

async function seed(postId: number, count: number): Promise<Comment[]> {
  const created: Comment[] = [];
  for (let i = 0; i < count; i += 1)
    created.push(await service(2).create({ postId, userId: 10 + i, text: `c${i}` }));
  return created;
}

const deletedEvents = async (postId: number) =>
  (
    await knex('outbox')
      .select('envelope')
      .where({ type: EventTypes.CommentDeleted })
      .whereRaw("(envelope->'payload'->>'post_id')::bigint = ?", [postId])
      .orderBy('seq')
  ).map((r: { envelope: { payload: { id: number; reason: string } } }) => r.envelope.payload);

const live = async (postId: number): Promise<number> =>
  (await knex('comments').where({ post_id: postId }).whereNull('deleted_at')).length;

describe('deleting a large post in bounded chunks', () => {
  it('resumes after a crash between chunks and never deletes or announces a comment twice', async () => {
    const postId = uniquePostId();
    const comments = await seed(postId, 5);
    const consumer = `chunks-${randomUUID()}`;
    const eventId = randomUUID();
    const step = () =>
      repository.deleteCommentsOfDeletedPost({
        postId,
        consumer,
        eventId,
        chunkSize: 2,
        event: (c) => ({
          id: randomUUID(),
          type: EventTypes.CommentDeleted,
          version: 1,
          time: new Date().toISOString(),
          source: 'comments',
          aggregate_type: 'comment',
          aggregate_id: String(c.id),
          payload: {
            id: c.id,
            post_id: c.postId,
            user_id: c.userId,
            deleted_at: c.deletedAt?.toISOString(),
            reason: 'post_deleted',
          },
          trace: {},
        }),
      });

    // The first chunk commits, then the process dies before the next one.
    expect(await step()).toEqual({ alreadyProcessed: false, deleted: 2, done: false });
    expect(await live(postId)).toBe(3);
    // A user deletes one of the remaining comments meanwhile.
    const survivor = comments[4]!;
    await service(2).delete(survivor.id, survivor.userId);

    // Redelivery: the service runs the cascade again from the top.
    expect(await service(2).removeCommentsOfDeletedPost(postId, { consumer, eventId })).toBe(2);
    expect(await live(postId)).toBe(0);
    expect(await service(2).removeCommentsOfDeletedPost(postId, { consumer, eventId })).toBe(0);

    const events = await deletedEvents(postId);
    expect(events.map((e) => e.id).sort()).toEqual(comments.map((c) => c.id).sort());
    expect(events.filter((e) => e.reason === 'user').map((e) => e.id)).toEqual([survivor.id]);
    expect(await knex('processed_events').where({ consumer, event_id: eventId })).toHaveLength(1);
  });

  it('records the post as deleted, so a creation racing the cascade is refused rather than orphaned', async () => {
    const postId = uniquePostId();
    await seed(postId, 3);
    const consumer = `race-${randomUUID()}`;
    const creations = Array.from({ length: 20 }, (_, i) =>
      service(2)
        .create({ postId, userId: 100 + i, text: `racing ${i}` })
        .then(
          () => 'created',
          (err: { code?: string }) => err.code,
        ),
    );
    const cascade = service(2).removeCommentsOfDeletedPost(postId, { consumer, eventId: randomUUID() });
    const outcomes = await Promise.all(creations);
    await cascade;

    expect(new Set(outcomes)).toEqual(new Set(outcomes.filter((o) => o === 'created' || o === 'NOT_FOUND')));
    expect(await live(postId)).toBe(0);
    await expect(service(2).create({ postId, userId: 1, text: 'late' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'post not found',
    });
    expect(await knex('deleted_posts').where({ post_id: postId })).toHaveLength(1);
  });
});
