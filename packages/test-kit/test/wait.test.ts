import { waitFor } from '../src';

describe('waitFor', () => {
  it('returns the first value the check yields', async () => {
    let calls = 0;
    const value = await waitFor(async () => (++calls >= 3 ? 'ready' : undefined), 1000, 5);
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('fails once the timeout has passed', async () => {
    await expect(waitFor(async () => undefined, 30, 5)).rejects.toThrow('condition not met within 30 ms');
  });
});
