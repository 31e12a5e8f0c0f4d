import { LivenessCache } from '../src/liveness-cache';

const deferred = () => {
  let resolve!: (live: boolean) => void;
  const promise = new Promise<boolean>((r) => (resolve = r));
  return { promise, resolve };
};

describe('LivenessCache', () => {
  it('asks every time when live answers are not kept (ttl 0)', async () => {
    const cache = new LivenessCache<number>({ liveTtlMs: 0 });
    const ask = jest.fn(async () => true);
    expect(await cache.isLive(1, ask)).toBe(true);
    expect(await cache.isLive(1, ask)).toBe(true);
    expect(ask).toHaveBeenCalledTimes(2);
  });

  it('keeps a live answer for its ttl only', async () => {
    let now = 1000;
    const cache = new LivenessCache<number>({ liveTtlMs: 500, now: () => now });
    const ask = jest.fn(async () => true);
    await cache.isLive(1, ask);
    now += 500;
    expect(cache.known(1)).toBe(true);
    await cache.isLive(1, ask);
    expect(ask).toHaveBeenCalledTimes(1);
    now += 1;
    expect(cache.known(1)).toBeUndefined();
    await cache.isLive(1, ask);
    expect(ask).toHaveBeenCalledTimes(2);
  });

  it('keeps a gone answer for good, and markGone overrides a kept live answer', async () => {
    const cache = new LivenessCache<number>({ liveTtlMs: 60_000 });
    const ask = jest.fn(async () => false);
    expect(await cache.isLive(1, ask)).toBe(false);
    expect(await cache.isLive(1, ask)).toBe(false);
    expect(ask).toHaveBeenCalledTimes(1);
    await cache.isLive(2, async () => true);
    cache.markGone(2);
    expect(cache.known(2)).toBe(false);
  });

  it('shares one call among concurrent reads of a key', async () => {
    const cache = new LivenessCache<number>({ liveTtlMs: 0 });
    const answer = deferred();
    const ask = jest.fn(() => answer.promise);
    const reads = [cache.isLive(7, ask), cache.isLive(7, ask), cache.isLive(7, ask)];
    answer.resolve(true);
    expect(await Promise.all(reads)).toEqual([true, true, true]);
    expect(ask).toHaveBeenCalledTimes(1);
  });

  it('lets a deletion learnt during a call win over the older live answer', async () => {
    const cache = new LivenessCache<number>({ liveTtlMs: 60_000 });
    const answer = deferred();
    const read = cache.isLive(3, () => answer.promise);
    cache.markGone(3);
    answer.resolve(true);
    expect(await read).toBe(false);
    expect(cache.known(3)).toBe(false);
  });

  it('remembers nothing when the owner cannot answer, and asks again next time', async () => {
    const cache = new LivenessCache<number>({ liveTtlMs: 60_000 });
    await expect(cache.isLive(4, async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(cache.known(4)).toBeUndefined();
    expect(await cache.isLive(4, async () => true)).toBe(true);
  });

  it('forgets the least recently used entries beyond its bound', async () => {
    const cache = new LivenessCache<number>({ liveTtlMs: 0, maxEntries: 2 });
    for (const id of [1, 2, 3]) cache.markGone(id);
    expect(cache.known(1)).toBeUndefined();
    expect(cache.known(2)).toBe(false);
    expect(cache.known(3)).toBe(false);
    // 2 was read last, so 3 goes first.
    expect(cache.known(2)).toBe(false);
    cache.markGone(4);
    expect(cache.known(3)).toBeUndefined();
    expect(cache.known(2)).toBe(false);
  });

  it('bounds the live answers too', async () => {
    const cache = new LivenessCache<number>({ liveTtlMs: 60_000, maxEntries: 2 });
    for (const id of [1, 2, 3]) await cache.isLive(id, async () => true);
    expect(cache.known(1)).toBeUndefined();
    expect(cache.known(3)).toBe(true);
  });
});
