import { contractViolations, EventTypes } from '@mpb/contracts';
import {
  commentCreatedPayload,
  commentDeletedPayload,
  commentUpdatedPayload,
  toCommentResponse,
  type Comment,
} from './comment';

const comment: Comment = {
  id: 11,
  postId: 7,
  userId: 3,
  text: 'hello',
  like: 0,
  blocked: false,
  createdAt: new Date('2026-01-02T03:04:05Z'),
  updatedAt: new Date('2026-01-02T04:00:00Z'),
  deletedAt: null,
};

describe('comment views', () => {
  it('answer in the old CommentResponse shape, snake_case, without deleted_at', () => {
    expect(toCommentResponse(comment)).toEqual({
      id: 11,
      post_id: 7,
      user_id: 3,
      text: 'hello',
      like: 0,
      blocked: false,
      created_at: '2026-01-02T03:04:05.000Z',
      updated_at: '2026-01-02T04:00:00.000Z',
    });
  });

  it('put ids and times in events, never the text', () => {
    expect(commentCreatedPayload(comment)).toEqual({
      id: 11,
      post_id: 7,
      user_id: 3,
      created_at: '2026-01-02T03:04:05.000Z',
    });
    expect(commentUpdatedPayload(comment)).toEqual({
      id: 11,
      post_id: 7,
      user_id: 3,
      updated_at: '2026-01-02T04:00:00.000Z',
    });
    const deleted = { ...comment, deletedAt: new Date('2026-01-03T00:00:00Z') };
    expect(commentDeletedPayload(deleted, 'post_deleted')).toEqual({
      id: 11,
      post_id: 7,
      user_id: 3,
      deleted_at: '2026-01-03T00:00:00.000Z',
      reason: 'post_deleted',
    });
    expect(() => commentDeletedPayload(comment, 'user')).toThrow(/not deleted/);
  });

  it('keep the shared event contracts', () => {
    const deleted = { ...comment, deletedAt: new Date('2026-01-03T00:00:00Z') };
    expect(contractViolations(EventTypes.CommentCreated, commentCreatedPayload(comment))).toEqual([]);
    expect(contractViolations(EventTypes.CommentUpdated, commentUpdatedPayload(comment))).toEqual([]);
    for (const reason of ['user', 'post_deleted'] as const) {
      const payload = commentDeletedPayload(deleted, reason);
      expect(contractViolations(EventTypes.CommentDeleted, payload)).toEqual([]);
    }
  });

  it('keep the wire form of the event payloads byte for byte: field order and types', () => {
    expect(JSON.stringify(commentCreatedPayload(comment))).toBe(
      '{"id":11,"post_id":7,"user_id":3,"created_at":"2026-01-02T03:04:05.000Z"}',
    );
    expect(JSON.stringify(commentUpdatedPayload(comment))).toBe(
      '{"id":11,"post_id":7,"user_id":3,"updated_at":"2026-01-02T04:00:00.000Z"}',
    );
    const deleted = { ...comment, deletedAt: new Date('2026-01-03T00:00:00Z') };
    expect(JSON.stringify(commentDeletedPayload(deleted, 'user'))).toBe(
      '{"id":11,"post_id":7,"user_id":3,"deleted_at":"2026-01-03T00:00:00.000Z","reason":"user"}',
    );
  });
});
