import { gatewayUrl, newUser, setUpPost, sleep, type User } from './support';

/** Longest a request may take before it counts as a hang (the gateway's upstream timeout is 4 s). */
export const ANSWER_BOUND_MS = 6000;

export type Op = 'view' | 'like' | 'unlike' | 'comment' | 'create' | 'list' | 'me';
/** The service behind each operation (the gateway is in front of all). */
export const SERVICE_OF: Record<Op, string> = {
  view: 'posts',
  list: 'posts',
  create: 'posts',
  like: 'metrics',
  unlike: 'metrics',
  comment: 'comments',
  me: 'auth',
};

/**
 * ok: the answer the operation should get (2xx, or the 400 that tells a like's state);
 * clear: a 5xx with a JSON `{"error"}` within the bound, the request may not have taken effect;
 * bad: no answer within the bound (hang), the connection reset or refused, a 5xx that is not JSON,
 * or a 4xx that lies about a request that was valid.
 */
export type Kind = 'ok' | 'clear' | 'bad';

export interface Outcome {
  vu: number;
  op: Op;
  postId?: number;
  status: number;
  kind: Kind;
  detail: string;
  t0: number;
  t1: number;
  /** id of what a 201 created */
  createdId?: number;
}

export interface World {
  author: User;
  targets: number[];
  vus: User[];
}

/** An author with `posts` fresh posts and `vus` readers; fresh per test file, so totals start at 0. */
export async function makeWorld(posts = 3, vus = 5): Promise<World> {
  // One after another: six bcrypt hashes at once can outlast the gateway's upstream timeout on a busy machine.
  const users: User[] = [];
  for (let i = 0; i <= vus; i++) users.push(await newUser());
  const author = users[0]!;
  const targets: number[] = [];
  for (let i = 0; i < posts; i++) targets.push(await setUpPost(author));
  return { author, targets, vus: users.slice(1) };
}

export type LikeState = 'liked' | 'unliked' | 'unknown';

export interface LoadResult {
  outcomes: Outcome[];
  /** Per reader and target post: what the answers say the like state is now. */
  likeState: Map<string, LikeState>;
}

export const pairKey = (vu: number, postId: number): string => `${vu}:${postId}`;

async function request(
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read field by field
): Promise<{ status: number; json: any; detail: string }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(`${gatewayUrl()}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(ANSWER_BOUND_MS),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, detail: json === undefined ? `non-JSON: ${text.slice(0, 80)}` : '' };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return { status: 0, json: undefined, detail: 'hang' };
    const code = e.cause?.code ?? '';
    if (code === 'ECONNREFUSED') return { status: 0, json: undefined, detail: 'refused' };
    return { status: 0, json: undefined, detail: `reset (${code || e.cause?.message || e.message})` };
  }
}

const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)]!;

/**
 * Starts `world.vus.length` virtual users, each looping over reads, views, likes/unlikes, comments,
 * post creation and /me through the gateway, until `stop()` (or `maxOpsPerVu`).
 */
export function startLoad(
  world: World,
  o: { pauseMs?: number; maxOpsPerVu?: number; withoutCreate?: boolean } = {},
) {
  const pauseMs = o.pauseMs ?? 40;
  const maxOps = o.maxOpsPerVu ?? 2000;
  const outcomes: Outcome[] = [];
  const likeState = new Map<string, LikeState>();
  for (let vu = 0; vu < world.vus.length; vu++)
    for (const p of world.targets) likeState.set(pairKey(vu, p), 'unliked');
  let stopping = false;

  const one = async (vu: number, user: User): Promise<void> => {
    const r = Math.random();
    const postId = pick(world.targets);
    const t0 = Date.now();
    let op: Op;
    let res: Awaited<ReturnType<typeof request>>;
    if (r < 0.35) {
      op = 'view';
      res = await request('GET', `/api/posts/${postId}`, undefined);
    } else if (r < 0.6) {
      const key = pairKey(vu, postId);
      op = likeState.get(key) === 'liked' ? 'unlike' : 'like';
      res =
        op === 'like'
          ? await request('POST', `/api/posts/${postId}/like`, user.token)
          : await request('DELETE', `/api/posts/${postId}/unlike`, user.token);
      const error = res.json?.error as string | undefined;
      if (res.status === 200) likeState.set(key, op === 'like' ? 'liked' : 'unliked');
      else if (error === 'user already liked this post') likeState.set(key, 'liked');
      else if (error === "user hasn't liked this post") likeState.set(key, 'unliked');
      // Any other answer (a 5xx, no answer) may or may not have changed it: unknown until a certain one.
      else likeState.set(key, 'unknown');
    } else if (r < 0.7) {
      op = 'comment';
      res = await request('POST', '/api/comments', user.token, {
        post_id: postId,
        text: `comment under load ${t0}`,
      });
    } else if (r < 0.77 && !o.withoutCreate) {
      op = 'create';
      res = await request('POST', '/api/posts', user.token, {
        title: `Load post ${t0}`,
        description: 'Created while a fault was applied.',
      });
    } else if (r < 0.9) {
      op = 'list';
      res = await request('GET', '/api/posts?limit=5', undefined);
    } else {
      op = 'me';
      res = await request('GET', '/api/auth/me', user.token);
    }
    const t1 = Date.now();
    let kind: Kind;
    let detail = res.detail;
    const expected400 =
      (op === 'like' && res.json?.error === 'user already liked this post') ||
      (op === 'unlike' && res.json?.error === "user hasn't liked this post");
    if ((res.status >= 200 && res.status < 300) || expected400) kind = 'ok';
    else if (res.status >= 500 && typeof res.json?.error === 'string' && t1 - t0 < ANSWER_BOUND_MS) {
      kind = 'clear';
      detail = `${res.status} ${res.json.error as string}`;
    } else {
      kind = 'bad';
      if (res.status >= 400) detail = `${res.status} ${detail || JSON.stringify(res.json)}`;
    }
    outcomes.push({
      vu,
      op,
      postId: op === 'create' || op === 'list' || op === 'me' ? undefined : postId,
      status: res.status,
      kind,
      detail,
      t0,
      t1,
      createdId: res.status === 201 ? (res.json?.id as number) : undefined,
    });
  };

  const loops = world.vus.map(async (user, vu) => {
    for (let i = 0; i < maxOps && !stopping; i++) {
      await one(vu, user);
      await sleep(pauseMs);
    }
  });

  return {
    outcomes,
    /** Stops issuing requests and waits for the ones in flight. */
    stop: async (): Promise<LoadResult> => {
      stopping = true;
      await Promise.all(loops);
      return { outcomes, likeState };
    },
  };
}

export type Load = ReturnType<typeof startLoad>;

/** A short summary of outcomes (for logs and failure messages). */
export function summarize(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    const key = `${o.op}:${o.kind}${o.kind === 'ok' ? '' : `(${o.detail})`}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort()
    .map(([k, n]) => `${k}=${n}`)
    .join(' ');
}
