import { Writable } from 'node:stream';
import { notFound, unavailable } from '@mpb/errors';
import { createLogger } from '@mpb/logger';
import type { PostCounts } from '../domain/post';
import { CountsWithFallback } from './counts-with-fallback';
import type { MetricsPort } from './metrics-client';

/** A metrics service whose answers the test controls. */
class ScriptedMetrics implements MetricsPort {
  calls = 0;
  failure: Error | undefined;
  counts = new Map<number, PostCounts>();

  async recordView(postId: number): Promise<PostCounts> {
    this.calls += 1;
    if (this.failure) throw this.failure;
    const c = this.counts.get(postId) ?? { likes: 0, views: 0 };
    const next = { likes: c.likes, views: c.views + 1 };
    this.counts.set(postId, next);
    return next;
  }

  async getCounts(postIds: number[]): Promise<Map<number, PostCounts>> {
    this.calls += 1;
    if (this.failure) throw this.failure;
    return new Map(postIds.flatMap((id) => (this.counts.has(id) ? [[id, this.counts.get(id)!]] : [])));
  }
}

function setup(o: { retryAfterMs?: number; warnIntervalMs?: number; cacheSize?: number } = {}) {
  const metrics = new ScriptedMetrics();
  const lines: Array<{ level: string; msg: string }> = [];
  const logger = createLogger({
    service: 'posts',
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    }),
  });
  let now = 1_000_000;
  const fallbacks: string[] = [];
  const counts = new CountsWithFallback({
    metrics,
    logger,
    clock: () => now,
    onFallback: (reason) => fallbacks.push(reason),
    ...o,
  });
  return {
    metrics,
    counts,
    fallbacks,
    warnings: () => lines.filter((l) => l.level === 'warn'),
    infos: () => lines.filter((l) => l.level === 'info'),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('counts with fallback', () => {
  it('serves metrics counts while metrics answers', async () => {
    const s = setup();
    s.metrics.counts.set(1, { likes: 3, views: 10 });
    expect(await s.counts.recordView(1, 0)).toEqual({ likes: 3, views: 11 });
    expect(await s.counts.countsOf([1, 2], 0)).toEqual(
      new Map([
        [1, { likes: 3, views: 11 }],
        [2, { likes: 0, views: 0 }],
      ]),
    );
    expect(s.fallbacks).toEqual([]);
  });

  it('falls back to the last known counts, then zero, when metrics fails', async () => {
    const s = setup();
    s.metrics.counts.set(1, { likes: 2, views: 5 });
    await s.counts.countsOf([1], 0);
    s.metrics.failure = unavailable('metrics down');
    expect(await s.counts.countsOf([1, 2], 0)).toEqual(
      new Map([
        [1, { likes: 2, views: 5 }],
        [2, { likes: 0, views: 0 }],
      ]),
    );
    expect(await s.counts.recordView(1, 7)).toEqual({ likes: 2, views: 5 });
  });

  it('skips metrics for a second after a failure, then probes it again', async () => {
    const s = setup({ retryAfterMs: 1000 });
    s.metrics.failure = unavailable('metrics down');
    await s.counts.countsOf([1], 0);
    expect(s.metrics.calls).toBe(1);
    for (let i = 0; i < 5; i += 1) await s.counts.recordView(1, 0);
    expect(s.metrics.calls).toBe(1);
    expect(s.fallbacks).toEqual(['failed', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped']);

    s.advance(1001);
    s.metrics.failure = undefined;
    s.metrics.counts.set(1, { likes: 1, views: 1 });
    expect(await s.counts.countsOf([1], 0)).toEqual(new Map([[1, { likes: 1, views: 1 }]]));
    expect(s.metrics.calls).toBe(2);
    expect(s.infos().map((l) => l.msg)).toContain('metrics reachable again');
  });

  it('warns once per outage and then at most once per interval, not once per request', async () => {
    const s = setup({ retryAfterMs: 10, warnIntervalMs: 30_000 });
    s.metrics.failure = unavailable('metrics down');
    for (let i = 0; i < 100; i += 1) {
      await s.counts.countsOf([1], 0);
      s.advance(100);
    }
    expect(s.warnings()).toHaveLength(1);
    s.advance(30_000);
    await s.counts.countsOf([1], 0);
    expect(s.warnings()).toHaveLength(2);
    expect(s.warnings()[1]).toMatchObject({ msg: 'metrics still unavailable; serving last known counts' });
  });

  it('lets one request probe after the pause while the others keep falling back', async () => {
    const s = setup({ retryAfterMs: 1000 });
    s.metrics.failure = unavailable('metrics down');
    await s.counts.countsOf([1], 0);
    s.advance(1001);
    let release: () => void = () => undefined;
    s.metrics.failure = undefined;
    const slow = jest
      .spyOn(s.metrics, 'getCounts')
      .mockImplementationOnce(() => new Promise((resolve) => (release = () => resolve(new Map()))));
    const probe = s.counts.countsOf([1], 0);
    await s.counts.countsOf([1], 0);
    expect(slow).toHaveBeenCalledTimes(1);
    release();
    await probe;
    expect(s.counts.isSkipping()).toBe(false);
  });

  it('treats a refusal of one call as an answer, not an outage', async () => {
    const s = setup();
    s.metrics.failure = notFound('post not found');
    expect(await s.counts.recordView(5, 0)).toEqual({ likes: 0, views: 0 });
    expect(s.counts.isSkipping()).toBe(false);
    expect(s.warnings()).toHaveLength(0);
  });

  it('keeps a bounded number of last known counts', async () => {
    const s = setup({ cacheSize: 2 });
    for (const id of [1, 2, 3]) s.metrics.counts.set(id, { likes: id, views: id });
    await s.counts.countsOf([1, 2, 3], 0);
    s.metrics.failure = unavailable('metrics down');
    const known = await s.counts.countsOf([1, 2, 3], 0);
    expect(known.get(1)).toEqual({ likes: 0, views: 0 });
    expect(known.get(3)).toEqual({ likes: 3, views: 3 });
  });

  it('never calls metrics for an empty page', async () => {
    const s = setup();
    expect(await s.counts.countsOf([], 0)).toEqual(new Map());
    expect(s.metrics.calls).toBe(0);
  });
});
