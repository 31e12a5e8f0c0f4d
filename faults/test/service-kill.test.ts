import { faultWorld, underLoad } from './scenario';
import { control, sleep } from './support';
import { answersWhileDown, badOutcomes, report, verifyConsistency, type FaultWindow } from './verify';

/** The gateway must answer a request for a dead service at once, not after its upstream timeout. */
const PROMPT_MS = 1000;

describe('fault: a service process is killed (SIGKILL) and restarted under load', () => {
  const world = faultWorld();

  it('answers 502/503 promptly for the dead service, never hangs, and loses or doubles nothing', async () => {
    const down: FaultWindow[] = [];
    const kills: Array<Record<string, unknown>> = [];
    const r = await underLoad(world(), async () => {
      const windows: FaultWindow[] = [];
      // posts: reads, lists and creation; metrics: likes (and the consumer killed mid-fold).
      for (const name of ['posts', 'metrics']) {
        const from = Date.now();
        kills.push(await control('POST /service/kill', { name, signal: 'SIGKILL' }));
        const downFrom = Date.now();
        await sleep(2500);
        down.push({ from: downFrom, to: Date.now(), service: name });
        await control('POST /service/start', { name });
        windows.push({ from, to: Date.now(), service: name });
      }
      return windows;
    });
    report('sigkill', r.load.outcomes, { recoveredMs: r.recoveredMs });
    expect(kills.map((k) => k.signal)).toEqual(['SIGKILL', 'SIGKILL']);
    for (const w of down) {
      const { hits, wrong } = answersWhileDown(r.load.outcomes, w.service!, w, PROMPT_MS);
      expect({ service: w.service, some: hits.length > 5, wrong }).toEqual({
        service: w.service,
        some: true,
        wrong: [],
      });
    }
    expect(badOutcomes(r.load.outcomes)).toEqual([]);
    expect(r.freshStatus).toEqual([200, 201]);
    await verifyConsistency(world(), r.load, r.windows);
  }, 120000);
});
