import { makeWorld, startLoad, type LoadResult, type World } from './load';
import { api, closeDbs, control, createPost, sleep, waitRecovered } from './support';
import type { FaultWindow } from './verify';

/**
 * The users, author and posts a fault file works with, made before its tests; after them, the
 * platform is repaired of whatever a failed assertion left broken, so the next file starts whole.
 */
export function faultWorld(): () => World {
  let world: World | undefined;
  beforeAll(async () => {
    world = await makeWorld();
  });
  afterAll(async () => {
    await closeDbs();
    await control('POST /heal');
    await waitRecovered(Date.now());
  });
  return () => {
    if (!world) throw new Error('the fault world is made in beforeAll');
    return world;
  };
}

export interface ScenarioResult {
  load: LoadResult;
  windows: FaultWindow[];
  /** From the start of the fault until every service was ready again. */
  recoveredMs: number;
  /** A fresh request after recovery: its status. */
  freshStatus: number[];
}

/**
 * Applies load, lets it run `warmMs`, applies the fault (which returns its windows), waits until every
 * service is ready again, checks that fresh requests succeed, keeps the load `afterMs` longer, stops it.
 * The load is stopped even when the fault throws, so a failing test leaves no request behind.
 */
export async function underLoad(
  world: World,
  fault: () => Promise<FaultWindow[]>,
  o: { warmMs?: number; afterMs?: number; withoutCreate?: boolean } = {},
): Promise<ScenarioResult> {
  const load = startLoad(world, { withoutCreate: o.withoutCreate });
  try {
    await sleep(o.warmMs ?? 1500);
    const from = Date.now();
    const windows = await fault();
    const recoveredMs = await waitRecovered(from);
    // The fault's last window lasts until the platform is ready again.
    windows[windows.length - 1]!.to = Math.max(windows[windows.length - 1]!.to, Date.now());
    const freshStatus = [
      (await api('GET', '/api/posts?limit=1')).status,
      await createPost(world.author, 'Fresh after the fault').then(
        () => 201,
        () => 0,
      ),
    ];
    await sleep(o.afterMs ?? 1500);
    return { load: await load.stop(), windows, recoveredMs, freshStatus };
  } finally {
    await load.stop();
  }
}
