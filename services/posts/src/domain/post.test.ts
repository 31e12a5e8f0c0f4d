import { contractViolations, EventTypes } from '@mpb/contracts';
import {
  postCreatedPayload,
  postDeletedPayload,
  postUpdatedPayload,
  toPostResponse,
  type Post,
} from './post';

const post: Post = {
  id: 12,
  userId: 34,
  title: 'Title',
  description: 'Description',
  tag: null,
  createdAt: new Date('2026-01-02T03:04:05.000Z'),
  updatedAt: new Date('2026-01-03T03:04:05.000Z'),
  deletedAt: null,
};

describe('post shapes', () => {
  it('renders the old API shape with counts from metrics', () => {
    expect(toPostResponse(post, { likes: 2, views: 9 })).toEqual({
      id: 12,
      user_id: 34,
      title: 'Title',
      description: 'Description',
      tag: '',
      like: 2,
      count_viewers: 9,
      created_at: '2026-01-02T03:04:05.000Z',
      updated_at: '2026-01-03T03:04:05.000Z',
    });
  });

  it('builds the event payloads', () => {
    expect(postCreatedPayload(post)).toEqual({
      id: 12,
      user_id: 34,
      title: 'Title',
      tag: null,
      created_at: '2026-01-02T03:04:05.000Z',
    });
    expect(postUpdatedPayload({ ...post, tag: 'news' })).toEqual({
      id: 12,
      user_id: 34,
      title: 'Title',
      tag: 'news',
      updated_at: '2026-01-03T03:04:05.000Z',
    });
    const deletedAt = new Date('2026-02-01T00:00:00.000Z');
    expect(postDeletedPayload({ ...post, deletedAt })).toEqual({
      id: 12,
      user_id: 34,
      deleted_at: '2026-02-01T00:00:00.000Z',
    });
    expect(() => postDeletedPayload(post)).toThrow(/not deleted/);
  });

  it('builds payloads that keep the shared event contracts', () => {
    const deleted = { ...post, deletedAt: new Date('2026-02-01T00:00:00.000Z') };
    for (const p of [post, { ...post, tag: 'news' }]) {
      expect(contractViolations(EventTypes.PostCreated, postCreatedPayload(p))).toEqual([]);
      expect(contractViolations(EventTypes.PostUpdated, postUpdatedPayload(p))).toEqual([]);
    }
    expect(contractViolations(EventTypes.PostDeleted, postDeletedPayload(deleted))).toEqual([]);
  });

  it('keeps the wire form of the event payloads byte for byte: field order, types, a null tag', () => {
    expect(JSON.stringify(postCreatedPayload(post))).toBe(
      '{"id":12,"user_id":34,"title":"Title","tag":null,"created_at":"2026-01-02T03:04:05.000Z"}',
    );
    expect(JSON.stringify(postUpdatedPayload({ ...post, tag: 'news' }))).toBe(
      '{"id":12,"user_id":34,"title":"Title","tag":"news","updated_at":"2026-01-03T03:04:05.000Z"}',
    );
    expect(JSON.stringify(postDeletedPayload({ ...post, deletedAt: new Date('2026-02-01T00:00:00Z') }))).toBe(
      '{"id":12,"user_id":34,"deleted_at":"2026-02-01T00:00:00.000Z"}',
    );
  });
});
