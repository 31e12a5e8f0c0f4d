import { isAppError } from '@mpb/errors';
import { createMetricsClient, type MetricsClient } from '../src/grpc/metrics-client';
import { closedPort } from './helpers/harness';
import { MetricsStandIn, STAND_IN_LIKES, STAND_IN_VIEWS } from './helpers/metrics-stand-in';

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return isAppError(err) ? err.code : String(err);
  }
};

describe('views sent to metrics together', () => {
  const opened: Array<{ close(): unknown }> = [];
  const standIn = async (o?: { batches?: boolean }) => {
    const s = await new MetricsStandIn(o).start();
    opened.push({ close: () => s.stop() });
    return s;
  };
  const client = (address: string, maxViewsPerCall?: number): MetricsClient => {
    const c = createMetricsClient({ address, deadlineMs: 2000, maxViewsPerCall });
    opened.push(c);
    return c;
  };
  afterAll(async () => {
    for (const o of opened) await o.close();
  });

  it('sends the views of one moment in one call and answers each with its own count', async () => {
    const metrics = await standIn();
    const c = client(metrics.address);
    const answers = await Promise.all(Array.from({ length: 20 }, () => c.recordView(501, 0, '198.51.100.1')));
    expect(metrics.recordViewsBatches).toEqual([20]);
    // Every view counted once, each told the count that includes it.
    expect(answers.map((a) => a.views).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 20 }, (_, i) => STAND_IN_VIEWS + 1 + i),
    );
    expect(answers.every((a) => a.likes === STAND_IN_LIKES && a.alreadyCounted === false)).toBe(true);
    expect(metrics.recordViewCalls).toHaveLength(20);
  });

  it('splits a moment with more views than one call takes', async () => {
    const metrics = await standIn();
    const c = client(metrics.address, 8);
    await Promise.all(Array.from({ length: 20 }, (_, i) => c.recordView(600 + i, 0, '198.51.100.2')));
    expect(metrics.recordViewsBatches).toEqual([8, 8, 4]);
  });

  it('refuses only the view metrics refused, with its own error', async () => {
    const metrics = await standIn();
    metrics.gone.add(702);
    const c = client(metrics.address);
    const [a, gone, b] = [c.recordView(701, 0, 'x'), c.recordView(702, 0, 'x'), c.recordView(703, 0, 'x')];
    expect(await codeOf(gone)).toBe('NOT_FOUND');
    expect((await a).views).toBe(STAND_IN_VIEWS + 1);
    expect((await b).views).toBe(STAND_IN_VIEWS + 1);
    expect(metrics.recordViewsBatches).toEqual([3]);
  });

  it('sends views one by one to a metrics without RecordViews', async () => {
    const metrics = await standIn({ batches: false });
    const c = client(metrics.address);
    const answers = await Promise.all(Array.from({ length: 5 }, () => c.recordView(801, 9, '')));
    expect(answers.map((a) => a.views).sort((x, y) => x - y)).toEqual([41, 42, 43, 44, 45]);
    expect(metrics.recordViewCalls).toHaveLength(5);
    // Later views go one by one at once, without asking for RecordViews again first.
    expect((await c.recordView(801, 9, '')).views).toBe(STAND_IN_VIEWS + 6);
    expect(metrics.recordViewCalls).toHaveLength(6);
  });

  it('fails every view of a call that metrics never answered', async () => {
    const c = client(`127.0.0.1:${await closedPort()}`);
    const codes = await Promise.all([c.recordView(901, 0, ''), c.recordView(902, 0, '')].map(codeOf));
    expect(codes).toEqual(['UNAVAILABLE', 'UNAVAILABLE']);
  });
});
