import { countsOf, needsLikers, pendingViews, type PostState, type Snapshot } from './counts';

const snapshot = (o: Partial<Snapshot> = {}): Snapshot => ({
  version: 3,
  views: 100,
  likes: 4,
  viewEpoch: 500,
  epochViews: 10,
  ...o,
});
const state = (o: Partial<PostState> = {}): PostState => ({
  postId: 1,
  epoch: 500,
  produced: 12,
  likers: { loaded: false, count: 0 },
  ...o,
});

describe('pendingViews', () => {
  it('is what Redis counted in the epoch beyond what PostgreSQL folded from it', () => {
    expect(pendingViews(state(), snapshot())).toBe(2);
  });

  it('is every view of a newer Redis epoch (after a flush nothing of it is folded yet)', () => {
    expect(pendingViews(state({ epoch: 600, produced: 3 }), snapshot())).toBe(3);
  });

  it('is never negative, and nothing without an epoch or for an older one', () => {
    expect(pendingViews(state({ produced: 5 }), snapshot())).toBe(0);
    expect(pendingViews(state({ epoch: undefined, produced: 0 }), snapshot())).toBe(0);
    expect(pendingViews(state({ epoch: 400 }), snapshot())).toBe(0);
  });
});

describe('countsOf', () => {
  it('adds pending views to the folded ones and takes likes from the snapshot until likers are loaded', () => {
    expect(countsOf(state(), snapshot())).toEqual({ postId: 1, views: 102, likes: 4, likedByViewer: false });
  });

  it('takes likes and membership from the loaded likers', () => {
    const s = state({ likers: { loaded: true, count: 9, viewer: 1234 } });
    expect(countsOf(s, snapshot())).toMatchObject({ likes: 9, likedByViewer: true });
    expect(countsOf(state({ likers: { loaded: true, count: 9, viewer: -1234 } }), snapshot())).toMatchObject({
      likedByViewer: false,
    });
  });

  it('needs the likers loaded only when Redis knows nothing about a signed-in viewer', () => {
    expect(countsOf(state(), snapshot()).likedByViewer).toBe(false);
    expect(needsLikers(state(), 7)).toBe(true);
    expect(needsLikers(state(), 0)).toBe(false);
    expect(needsLikers(state({ likers: { loaded: false, count: 0, viewer: -5 } }), 7)).toBe(false);
    expect(needsLikers(state({ likers: { loaded: true, count: 0 } }), 7)).toBe(false);
  });
});
