import type { MetricEvent } from './events';
import { planFold } from './fold';

let offset = 0;
const view = (postId: number, epoch = 100): MetricEvent => ({
  kind: 'view',
  postId,
  viewerId: 0,
  epoch,
  offset: String(offset++),
});
const like = (kind: 'like' | 'unlike', postId: number, userId: number, seq: number): MetricEvent => ({
  kind,
  postId,
  userId,
  seq,
  offset: String(offset++),
});

describe('planFold', () => {
  it('sums views per post and lists every post once, ascending', () => {
    const plan = planFold([view(9), view(3), view(9), like('like', 5, 1, 10)]);
    expect(plan.posts).toEqual([3, 5, 9]);
    expect(plan.views.get(9)).toEqual({ views: 2, epoch: 100, epochViews: 2 });
    expect(plan.views.get(3)).toEqual({ views: 1, epoch: 100, epochViews: 1 });
    expect(plan.views.has(5)).toBe(false);
  });

  it('tracks the newest epoch and counts only its views there', () => {
    const plan = planFold([view(1, 100), view(1, 200), view(1, 100), view(1, 200), view(1, 0)]);
    expect(plan.views.get(1)).toEqual({ views: 5, epoch: 200, epochViews: 2 });
  });

  it('keeps the decision with the highest sequence per user and post', () => {
    const plan = planFold([
      like('like', 1, 7, 10),
      like('unlike', 1, 7, 20),
      like('like', 1, 8, 30),
      like('unlike', 1, 8, 25), // arrived late: older than the like
    ]);
    expect(plan.likes).toEqual(
      expect.arrayContaining([
        { postId: 1, userId: 7, liked: false, seq: 20 },
        { postId: 1, userId: 8, liked: true, seq: 30 },
      ]),
    );
    expect(plan.likes).toHaveLength(2);
  });

  it('takes the highest offset as the one to store, compared as 64-bit numbers', () => {
    const events: MetricEvent[] = [
      { kind: 'view', postId: 1, viewerId: 0, epoch: 1, offset: '9007199254740993' },
      { kind: 'view', postId: 1, viewerId: 0, epoch: 1, offset: '9007199254740995' },
      { kind: 'view', postId: 1, viewerId: 0, epoch: 1, offset: '10' },
    ];
    expect(planFold(events).lastOffset).toBe('9007199254740995');
  });

  it('refuses an empty batch', () => {
    expect(() => planFold([])).toThrow();
  });
});
