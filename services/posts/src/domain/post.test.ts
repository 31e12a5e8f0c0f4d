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
});
