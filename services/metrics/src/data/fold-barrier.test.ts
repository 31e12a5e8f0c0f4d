import { foldBarrier } from './fold-barrier';

const ends = (m: Record<number, [number, number]>) => async () =>
  new Map(Object.entries(m).map(([p, [low, high]]) => [Number(p), { low: BigInt(low), high: BigInt(high) }]));

describe('foldBarrier', () => {
  it('resolves once every partition is folded up to where Kafka ended when it was called', async () => {
    let applied = new Map<number, bigint>([
      [0, 4n],
      [1, 1n],
    ]);
    const wait = foldBarrier({
      ends: ends({ 0: [0, 5], 1: [0, 3] }),
      applied: async () => applied,
      timeoutMs: 2000,
      pollMs: 5,
    });
    let done = false;
    const waiting = wait().then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    applied = new Map([
      [0, 4n],
      [1, 2n],
    ]);
    await waiting;
    expect(done).toBe(true);
  });

  it('ignores empty partitions, even without a stored offset', async () => {
    const wait = foldBarrier({
      ends: ends({ 0: [0, 0], 1: [7, 7] }),
      applied: async () => new Map(),
      timeoutMs: 50,
    });
    await expect(wait()).resolves.toBeUndefined();
  });

  it('rejects after the timeout while a partition stays behind, naming it', async () => {
    const wait = foldBarrier({
      ends: ends({ 0: [0, 5], 3: [2, 9] }),
      applied: async () => new Map([[0, 4n]]),
      timeoutMs: 40,
      pollMs: 5,
    });
    await expect(wait()).rejects.toThrow(/partitions 3/);
  });

  it('rejects within the timeout when Kafka does not say where the topic ends', async () => {
    const started = Date.now();
    const wait = foldBarrier({
      ends: () => new Promise(() => undefined),
      applied: async () => new Map(),
      timeoutMs: 40,
    });
    await expect(wait()).rejects.toThrow(/topic ends unknown/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
