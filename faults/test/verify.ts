import { pairKey, SERVICE_OF, summarize, type LoadResult, type Outcome, type World } from './load';
import { api, db, eventually } from './support';

/** A span of time in which a fault was applied, up to the platform's recovery. */
export interface FaultWindow {
  from: number;
  to: number;
  /** The one service that was down, when the fault is a service's. */
  service?: string;
}

const overlaps = (o: Outcome, w: FaultWindow, marginMs = 0): boolean =>
  o.t0 <= w.to + marginMs && o.t1 >= w.from;

const describeOutcome = (o: Outcome): string =>
  `${o.op}${o.postId ? ` post ${o.postId}` : ''} at +${o.t0 % 100000} ms: ${o.detail} after ${o.t1 - o.t0} ms`;

/**
 * Every answer was either the right one or a clear error: no hang past the bound, no reset, no non-JSON
 * 5xx, no lie. `allowRefused`: a refused connection is expected only while the gateway itself is down,
 * so only a request sent inside one of these windows may meet one.
 */
export function badOutcomes(outcomes: Outcome[], allowRefused: FaultWindow[] = []): string[] {
  return outcomes
    .filter(
      (o) =>
        o.kind === 'bad' &&
        !(o.detail === 'refused' && allowRefused.some((w) => o.t0 >= w.from && o.t0 <= w.to)),
    )
    .map(describeOutcome);
}

/** How many requests were sent while a fault was applied (the load must really overlap the fault). */
export const duringFault = (outcomes: Outcome[], windows: FaultWindow[]): Outcome[] =>
  outcomes.filter((o) => windows.some((w) => overlaps(o, w)));

interface PostTotals {
  apiLikes: number;
  apiViews: number;
  pgLikes: number;
  pgLikeRows: number;
  pgViews: number;
}

async function totals(world: World): Promise<Map<number, PostTotals>> {
  const list = await api('GET', `/api/posts?user_id=${world.author.id}&limit=100`);
  if (list.status !== 200) throw new Error(`list: ${list.status}`);
  const counters: Array<{ post_id: string; views: string; likes: string }> = await db('metrics')(
    'post_counters',
  )
    .select('post_id', 'views', 'likes')
    .whereIn('post_id', world.targets);
  const rows: Array<{ post_id: string; n: string }> = await db('metrics')('post_likes')
    .select('post_id')
    .count('* as n')
    .where('liked', true)
    .whereIn('post_id', world.targets)
    .groupBy('post_id');
  const out = new Map<number, PostTotals>();
  for (const id of world.targets) {
    const p = (list.body as Array<{ id: number; like: number; count_viewers: number }>).find(
      (x) => x.id === id,
    );
    const c = counters.find((x) => Number(x.post_id) === id);
    out.set(id, {
      apiLikes: p?.like ?? -1,
      apiViews: p?.count_viewers ?? -1,
      pgLikes: Number(c?.likes ?? 0),
      pgLikeRows: Number(rows.find((x) => Number(x.post_id) === id)?.n ?? 0),
      pgViews: Number(c?.views ?? 0),
    });
  }
  return out;
}

const agree = (t: PostTotals): boolean =>
  t.apiLikes === t.pgLikes && t.pgLikes === t.pgLikeRows && t.apiViews === t.pgViews;

/**
 * After the fault and recovery: nothing lost, nothing doubled, and Redis (what the API answers),
 * PostgreSQL and the load generator's record agree.
 *
 * - Likes: each reader's like of each post ends in the state its last certain answer said (200, or the
 *   400 "already liked"/"hasn't liked"), checked through the API; a pair whose last answer was a 5xx or
 *   none is unknown and only counted. Per post the API's count, post_counters.likes and the liked rows
 *   of post_likes all equal the number of readers that like it: exact.
 * - Views: a 200 for GET /api/posts/:id counts its view (the fault platform's metrics runs with
 *   VIEW_DEDUP_SECONDS=0, so a reader's every read counts) unless metrics could not be reached (posts then
 *   serves the last known counts, by design) or the request failed ambiguously. So views answered 200
 *   away from every fault window are a lower bound, and all 200s plus every failed view an upper bound:
 *   `certain <= total <= ok + failed`. The API's total equals PostgreSQL's exactly.
 * - Posts and comments: every 201 is readable afterwards, and there are no more of them than 201s plus
 *   ambiguous failures (nothing doubled).
 */
export async function verifyConsistency(
  world: World,
  load: LoadResult,
  windows: FaultWindow[],
): Promise<void> {
  // Convergence: the consumer folds what Redis already counts; wait until both say the same.
  let last = new Map<number, PostTotals>();
  await eventually(async () => [...(last = await totals(world)).values()].every(agree), 45000, 500);

  const { outcomes, likeState } = load;
  const expected: Record<string, unknown> = {};
  const actual: Record<string, unknown> = {};
  for (const postId of world.targets) {
    const t = last.get(postId)!;
    const probes = await Promise.all(
      world.vus.map(async (u) => {
        const res = await api('GET', `/api/posts/${postId}/like`, { token: u.token });
        if (res.status !== 200) throw new Error(`like state: ${res.status} ${JSON.stringify(res.body)}`);
        return res.body.liked as boolean;
      }),
    );
    const likers = probes.filter(Boolean).length;
    const known = world.vus.map((_, vu) => likeState.get(pairKey(vu, postId)));
    probes.forEach((liked, vu) => {
      if (known[vu] === 'unknown' || (known[vu] === 'liked') === liked) return;
      // The pair's history, for the failure's diagnosis.
      const history = outcomes
        .filter((o) => o.vu === vu && o.postId === postId && (o.op === 'like' || o.op === 'unlike'))
        .map(
          (o) =>
            `${o.op}@${o.t0 - (windows[0]?.from ?? 0)}ms:${o.status}${o.kind === 'ok' ? '' : `(${o.detail})`}`,
        );
      process.stderr.write(
        `[faults] reader ${vu} post ${postId}: answers say ${known[vu]}, API says ${liked ? 'liked' : 'unliked'}; ${history.join(' ')}\n`,
      );
    });
    actual[`post ${postId} likes`] = {
      api: t.apiLikes,
      pgCounter: t.pgLikes,
      pgRows: t.pgLikeRows,
      states: probes.map((liked, vu) => (known[vu] === 'unknown' ? 'unknown' : liked ? 'liked' : 'unliked')),
    };
    expected[`post ${postId} likes`] = { api: likers, pgCounter: likers, pgRows: likers, states: known };

    const views = outcomes.filter((o) => o.op === 'view' && o.postId === postId);
    const ok = views.filter((o) => o.status === 200);
    // 3 s past a window: posts skips metrics for a second after a failure, then probes once.
    const certain = ok.filter((o) => !windows.some((w) => overlaps(o, w, 3000))).length;
    const failed = views.length - ok.length;
    actual[`post ${postId} views`] = {
      apiEqualsPg: t.apiViews === t.pgViews,
      atLeastCertain: t.pgViews >= certain,
      atMostOkPlusFailed: t.pgViews <= ok.length + failed,
    };
    expected[`post ${postId} views`] = { apiEqualsPg: true, atLeastCertain: true, atMostOkPlusFailed: true };
    actual[`post ${postId} view figures`] = {
      pg: t.pgViews,
      api: t.apiViews,
      certain,
      ok: ok.length,
      failed,
    };
    expected[`post ${postId} view figures`] = actual[`post ${postId} view figures`];

    // Comments: every 201 readable, none doubled.
    const comments = outcomes.filter((o) => o.op === 'comment' && o.postId === postId);
    const created = comments.filter((o) => o.status === 201).map((o) => o.createdId!);
    const ambiguous = comments.filter((o) => o.status !== 201 && o.status !== 400).length;
    // Every page: a busy post has more comments than one page holds (newest first).
    const ids: number[] = [];
    let total = 0;
    for (let page = 1; page <= 50; page++) {
      const list = await api('GET', `/api/comments?post_id=${postId}&limit=100&page=${page}`);
      const items = list.body as Array<{ id: number }>;
      total = Number(list.headers.get('x-total-count') ?? total);
      ids.push(...items.map((c) => c.id));
      if (items.length < 100) break;
    }
    actual[`post ${postId} comments`] = {
      missing: created.filter((id) => !ids.includes(id)),
      duplicates: ids.length - new Set(ids).size,
      withinBound: total >= created.length && total <= created.length + ambiguous,
    };
    expected[`post ${postId} comments`] = { missing: [], duplicates: 0, withinBound: true };
  }

  // Posts created under load: each reader's list holds every 201 and no more than 201s + ambiguous.
  for (let vu = 0; vu < world.vus.length; vu++) {
    const creates = outcomes.filter((o) => o.op === 'create' && o.vu === vu);
    const created = creates.filter((o) => o.status === 201).map((o) => o.createdId!);
    const ambiguous = creates.filter((o) => o.status !== 201 && o.status !== 400).length;
    const ids: number[] = [];
    for (let page = 1; page <= 50; page++) {
      const list = await api('GET', `/api/posts?user_id=${world.vus[vu]!.id}&limit=100&page=${page}`);
      const items = list.body as Array<{ id: number }>;
      ids.push(...items.map((p) => p.id));
      if (items.length < 100) break;
    }
    actual[`reader ${vu} posts`] = {
      missing: created.filter((id) => !ids.includes(id)),
      withinBound: ids.length >= created.length && ids.length <= created.length + ambiguous,
    };
    expected[`reader ${vu} posts`] = { missing: [], withinBound: true };
  }
  process.stderr.write(`[faults] totals ${JSON.stringify(Object.fromEntries(last))}\n`);
  expect(actual).toEqual(expected);
}

/** The gateway answered every request for `service`'s routes inside `window` with a prompt 502/503. */
export function answersWhileDown(
  outcomes: Outcome[],
  service: string,
  window: FaultWindow,
  promptMs: number,
) {
  const hits = outcomes.filter(
    (o) => SERVICE_OF[o.op] === service && o.t0 >= window.from && o.t1 <= window.to,
  );
  return {
    hits,
    wrong: hits
      .filter((o) => !(o.status === 502 || o.status === 503) || o.kind !== 'clear' || o.t1 - o.t0 > promptMs)
      .map(describeOutcome),
  };
}

export const report = (name: string, outcomes: Outcome[], extra: Record<string, unknown> = {}): void => {
  process.stderr.write(
    `[faults] ${name}: ${outcomes.length} requests; ${summarize(outcomes)} ${JSON.stringify(extra)}\n`,
  );
};
