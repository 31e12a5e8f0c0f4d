import { faultWorld, underLoad } from './scenario';
import { control, sleep } from './support';
import { badOutcomes, duringFault, report, verifyConsistency } from './verify';

describe('fault: Redis is flushed, then restarted, under load', () => {
  const world = faultWorld();

  it('rebuilds counts from PostgreSQL after a flush and after a restart, answering clearly meanwhile', async () => {
    const r = await underLoad(world(), async () => {
      const flushedAt = Date.now();
      expect((await control('POST /redis/flush')).reply).toBe('+OK');
      await sleep(2500);
      // Restarted: killed (no persistence: it comes back empty) and started again on its port.
      const stoppedAt = Date.now();
      await control('POST /redis/stop');
      await sleep(2000);
      await control('POST /redis/start');
      return [
        { from: flushedAt, to: flushedAt + 1000 },
        { from: stoppedAt, to: Date.now() },
      ];
    });
    report('redis', r.load.outcomes, { recoveredMs: r.recoveredMs });
    expect(duringFault(r.load.outcomes, r.windows).length).toBeGreaterThan(20);
    expect(badOutcomes(r.load.outcomes)).toEqual([]);
    expect(r.freshStatus).toEqual([200, 201]);
    await verifyConsistency(world(), r.load, r.windows);
  }, 120000);
});
