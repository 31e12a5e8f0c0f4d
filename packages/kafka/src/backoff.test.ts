import { backoffDelay, Sleeper } from './backoff';

describe('backoffDelay', () => {
  it('grows exponentially and stays under the cap, jitter included', () => {
    const top = () => 1;
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, { initialMs: 100, maxMs: 5000 }, top))).toEqual([
      100, 200, 400, 800,
    ]);
    expect(backoffDelay(30, { initialMs: 100, maxMs: 5000 }, top)).toBe(5000);
    expect(backoffDelay(30, { initialMs: 100, maxMs: 5000 }, () => 0)).toBe(4000);
  });
});

describe('Sleeper', () => {
  it('wakes every pending sleep at once', async () => {
    const sleeper = new Sleeper();
    const started = Date.now();
    const sleeps = Promise.all([sleeper.sleep(10000), sleeper.sleep(20000)]);
    sleeper.wake();
    await sleeps;
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
