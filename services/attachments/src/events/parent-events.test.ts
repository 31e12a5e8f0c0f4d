import { createEnvelope, EventTypes, type EventType } from '@mpb/contracts';
import { isPermanentEventError } from '@mpb/kafka';
import { createLogger } from '@mpb/logger';
import type { AttachmentsService } from '../domain/attachments-service';
import { parentEventsHandler } from './parent-events';

function setup() {
  const removed: Array<{ kind: string; id: number; eventId: string; consumer: string }> = [];
  const forgotten: Array<{ kind: string; id: number }> = [];
  const attachments = {
    removeAttachmentsOf: async (
      p: { kind: string; id: number },
      e: { consumer: string; eventId: string },
    ) => {
      removed.push({ ...p, eventId: e.eventId, consumer: e.consumer });
      return 0;
    },
    forgetDeletedParent: (p: { kind: string; id: number }) => forgotten.push(p),
  } as unknown as AttachmentsService;
  const handle = parentEventsHandler({
    attachments,
    consumer: 'attachments',
    logger: createLogger({ service: 'attachments-test', level: 'silent' }),
  });
  return { handle, removed, forgotten };
}

const event = (type: EventType, payload: Record<string, unknown>) =>
  createEnvelope({ type, aggregateType: type.split('.')[0]!, aggregateId: 5, payload, source: 'test' });

describe('parent events', () => {
  it.each([
    [EventTypes.PostDeleted, 'post'],
    [EventTypes.CommentDeleted, 'comment'],
  ] as const)(
    '%s removes the attachments of that %s, keyed by the event id and the group',
    async (type, kind) => {
      const { handle, removed, forgotten } = setup();
      const deleted = event(type, { id: 5, user_id: 1 });
      await handle(deleted);
      expect(removed).toEqual([{ kind, id: 5, eventId: deleted.id, consumer: 'attachments' }]);
      expect(forgotten).toEqual([{ kind, id: 5 }]);
    },
  );

  it('reads only the id, with the shared contract: a numeric string passes, fields it does not read are ignored', async () => {
    const { handle, removed } = setup();
    await handle(event(EventTypes.CommentDeleted, { id: '5', reason: 'not read', added_later: true }));
    expect(removed.map((r) => r.id)).toEqual([5]);
  });

  it('skips the other events', async () => {
    const { handle, removed } = setup();
    await handle(event(EventTypes.PostUpdated, { id: 'whatever' }));
    await handle(event(EventTypes.CommentCreated, {}));
    expect(removed).toHaveLength(0);
  });

  it.each([{ id: 'x' }, { id: -1 }, { id: 0 }, {}, { id: 1.5 }, { id: 2 ** 53 }])(
    'refuses the payload %p as a permanent error, to be parked',
    async (payload) => {
      for (const type of [EventTypes.PostDeleted, EventTypes.CommentDeleted]) {
        const { handle, removed } = setup();
        const err = await handle(event(type, payload)).catch((e: unknown) => e);
        expect(isPermanentEventError(err)).toBe(true);
        expect((err as Error).message).toMatch(new RegExp(`^invalid event: ${type} payload: "id" `));
        expect(removed).toHaveLength(0);
      }
    },
  );
});
