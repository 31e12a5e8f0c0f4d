import { createEnvelope, EventTypes, type EventType } from '@mpb/contracts';
import { isPermanentEventError } from '@mpb/kafka';
import { createLogger } from '@mpb/logger';
import type { CommentsService } from '../domain/comments-service';
import { postEventsHandler } from './post-events';

function setup() {
  const removed: Array<{ postId: number; eventId: string; consumer: string }> = [];
  const forgotten: number[] = [];
  const comments = {
    removeCommentsOfDeletedPost: async (postId: number, e: { consumer: string; eventId: string }) => {
      removed.push({ postId, eventId: e.eventId, consumer: e.consumer });
      return 0;
    },
    forgetDeletedPost: (postId: number) => forgotten.push(postId),
  } as unknown as CommentsService;
  const handle = postEventsHandler({
    comments,
    consumer: 'comments',
    logger: createLogger({ service: 'comments-test', level: 'silent' }),
  });
  return { handle, removed, forgotten };
}

const event = (type: EventType, payload: Record<string, unknown>) =>
  createEnvelope({ type, aggregateType: 'post', aggregateId: 5, payload, source: 'posts' });

describe('post events', () => {
  it('removes the comments of a deleted post, keyed by the event id and the group', async () => {
    const { handle, removed, forgotten } = setup();
    const deleted = event(EventTypes.PostDeleted, { id: 5, user_id: 1 });
    await handle(deleted);
    expect(removed).toEqual([{ postId: 5, eventId: deleted.id, consumer: 'comments' }]);
    // Reads stop asking posts about it at once.
    expect(forgotten).toEqual([5]);
  });

  it('reads only the id, with the shared contract: a numeric string passes, fields it does not read are ignored', async () => {
    const { handle, removed } = setup();
    await handle(event(EventTypes.PostDeleted, { id: '5', user_id: 'not read', title: 'added later' }));
    expect(removed.map((r) => r.postId)).toEqual([5]);
  });

  it('skips the other post events', async () => {
    const { handle, removed } = setup();
    await handle(event(EventTypes.PostCreated, { id: 5 }));
    await handle(event(EventTypes.PostUpdated, { id: 'whatever' }));
    expect(removed).toHaveLength(0);
  });

  it.each([{ id: 'x' }, { id: -1 }, { id: 0 }, {}, { id: 1.5 }, { id: 2 ** 53 }])(
    'refuses the payload %p as a permanent error, to be parked',
    async (payload) => {
      const { handle, removed } = setup();
      const err = await handle(event(EventTypes.PostDeleted, payload)).catch((e: unknown) => e);
      expect(isPermanentEventError(err)).toBe(true);
      expect(removed).toHaveLength(0);
    },
  );
});
