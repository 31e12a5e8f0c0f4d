import { faultWorld, underLoad } from './scenario';
import { control, sleep } from './support';
import { badOutcomes, duringFault, report, verifyConsistency } from './verify';

describe('fault: PostgreSQL is unreachable for several seconds under load', () => {
  const world = faultWorld();

  it('answers clearly while the database is cut off, recovers, and loses or doubles nothing', async () => {
    let destroyed = 0;
    const r = await underLoad(world(), async () => {
      const from = Date.now();
      // Every open connection of every service is destroyed and new ones are refused for 5 s.
      destroyed = (await control('POST /pg/cut')).destroyed as number;
      try {
        await sleep(5000);
      } finally {
        await control('POST /pg/restore');
      }
      return [{ from, to: Date.now() }];
    });
    report('postgres', r.load.outcomes, { recoveredMs: r.recoveredMs, destroyed });
    expect(destroyed).toBeGreaterThan(0);
    expect(duringFault(r.load.outcomes, r.windows).length).toBeGreaterThan(20);
    expect(badOutcomes(r.load.outcomes)).toEqual([]);
    expect(r.freshStatus).toEqual([200, 201]);
    await verifyConsistency(world(), r.load, r.windows);
  }, 120000);
});
