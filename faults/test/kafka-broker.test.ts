import { faultWorld, underLoad } from './scenario';
import { control, sleep } from './support';
import { badOutcomes, duringFault, report, verifyConsistency } from './verify';

describe('fault: the Kafka broker is stopped and restarted under load', () => {
  const world = faultWorld();

  it('answers clearly while the broker is away, recovers, and loses or doubles no like, view, post or comment', async () => {
    const r = await underLoad(world(), async () => {
      const from = Date.now();
      await control('POST /kafka/stop');
      await sleep(3000);
      await control('POST /kafka/start');
      return [{ from, to: Date.now() }];
    });
    report('kafka', r.load.outcomes, { recoveredMs: r.recoveredMs });
    expect(duringFault(r.load.outcomes, r.windows).length).toBeGreaterThan(20);
    expect(badOutcomes(r.load.outcomes)).toEqual([]);
    expect(r.freshStatus).toEqual([200, 201]);
    await verifyConsistency(world(), r.load, r.windows);
  }, 120000);
});
