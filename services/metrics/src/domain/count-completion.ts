import { countsOf, EMPTY_SNAPSHOT, needsLikers, type Counts, type PostState } from './counts';
import type { LikersLoader } from './likers-loader';
import { GONE, type CounterCache, type CounterStore, type Gone } from './ports';

export interface CountCompletionDeps {
  cache: CounterCache;
  store: CounterStore;
  likers: LikersLoader;
}

/**
 * Turns Redis states into counts, refilling what Redis lacks from PostgreSQL: snapshots (written
 * back unless a newer one arrived meanwhile) and, for a signed-in viewer, the likers of the posts
 * whose membership Redis cannot tell (loaded as for a like, then read again).
 */
export async function completeCounts(
  d: CountCompletionDeps,
  postIds: number[],
  states: Array<PostState | Gone>,
  viewerId: number,
): Promise<Counts[]> {
  const missing = states.filter((s): s is PostState => s !== GONE && s.snapshot === undefined);
  if (missing.length > 0) {
    const ids = missing.map((s) => s.postId);
    const stored = await d.store.snapshots(ids);
    const saved = await d.cache.saveSnapshots(
      ids.map((postId) => ({ postId, snapshot: stored.get(postId) ?? EMPTY_SNAPSHOT })),
      viewerId,
    );
    states = replace(states, ids, saved);
  }
  const unloaded = states.filter((s): s is PostState => s !== GONE && needsLikers(s, viewerId));
  if (unloaded.length > 0) {
    const ids = unloaded.map((s) => s.postId);
    await Promise.all(ids.map((id) => d.likers.load(id)));
    const again = await d.cache.read(ids, viewerId);
    states = replace(states, ids, again);
  }
  return states.map((s, i) =>
    s === GONE
      ? { postId: postIds[i]!, likes: 0, views: 0, likedByViewer: false }
      : countsOf(s, s.snapshot ?? EMPTY_SNAPSHOT),
  );
}

/** States read again for some posts replace the earlier ones (keeping a snapshot an eviction lost meanwhile). */
function replace(
  states: Array<PostState | Gone>,
  ids: number[],
  fresh: Array<PostState | Gone>,
): Array<PostState | Gone> {
  const byId = new Map(fresh.map((s, i) => [ids[i]!, s]));
  return states.map((s) => {
    if (s === GONE || !byId.has(s.postId)) return s;
    const next = byId.get(s.postId)!;
    return next !== GONE && next.snapshot === undefined ? { ...next, snapshot: s.snapshot } : next;
  });
}
