import type { Knex } from 'knex';
import { consumerProgressCheck, dependencyChecks, runReadiness, type ConsumerProgress } from '../src';

function deps(
  o: {
    connected?: boolean;
    oldestAgeSeconds?: number;
    dbDown?: boolean;
    parked?: number;
  } = {},
) {
  return {
    knex: {
      raw: async () => (o.dbDown ? Promise.reject(new Error('database down')) : { rows: [] }),
    } as unknown as Knex,
    events: {
      kafka: { ping: async () => undefined },
      producer: { isConnected: () => o.connected ?? true },
      relay: {
        backlog: async () => ({ count: 3, oldestAgeSeconds: o.oldestAgeSeconds ?? 0, parked: o.parked ?? 0 }),
      },
    },
    outboxMaxLagSeconds: 60,
  };
}

describe('dependencyChecks', () => {
  it('passes when every dependency answers and the outbox drains', async () => {
    await expect(runReadiness(dependencyChecks(deps()), 1000)).resolves.toEqual({
      ok: true,
      degraded: false,
      checks: { database: 'ok', kafka: 'ok', outbox: 'ok' },
    });
  });

  it('stays ready but degraded when Kafka is down or the outbox lags: the API works without them', async () => {
    const r = await runReadiness(
      dependencyChecks(deps({ connected: false, oldestAgeSeconds: 90.4, parked: 2 })),
      1000,
    );
    expect(r).toEqual({
      ok: true,
      degraded: true,
      checks: {
        database: 'ok',
        kafka: 'degraded: producer not connected',
        outbox: 'degraded: 3 events unpublished, oldest 90 s old; 2 events parked (can never be sent)',
      },
    });
  });

  it('is not ready when PostgreSQL is unreachable, whatever Kafka does', async () => {
    const r = await runReadiness(dependencyChecks(deps({ dbDown: true, connected: false })), 1000);
    expect(r.ok).toBe(false);
    expect(r.checks).toMatchObject({ database: 'database down' });
  });
});

describe('consumerProgressCheck, the one rule for event consumers', () => {
  const startedAt = new Date('2026-01-01T00:00:00Z');
  const at = (seconds: number) => () => startedAt.getTime() + seconds * 1000;
  const consumer = (o: { running?: boolean; processedAt?: number; lag?: number }): ConsumerProgress => ({
    status: () => ({
      running: o.running ?? true,
      lastProcessedAt:
        o.processedAt === undefined ? null : new Date(startedAt.getTime() + o.processedAt * 1000),
    }),
    lag: async () => o.lag ?? 0,
  });
  const check = async (c: ConsumerProgress | undefined, nowSeconds: number) =>
    (
      await runReadiness(
        {
          consumer: consumerProgressCheck(() => c, { maxStallSeconds: 120, startedAt, now: at(nowSeconds) }),
        },
        1000,
      )
    ).checks.consumer;

  it('is degraded while the consumer does not exist or does not run', async () => {
    expect(await check(undefined, 1)).toBe('degraded: consumer not running');
    expect(await check(consumer({ running: false }), 1)).toBe('degraded: consumer not running');
  });

  it('is fine while it keeps processing, however long its backlog', async () => {
    expect(await check(consumer({ processedAt: 290, lag: 50_000 }), 300)).toBe('ok');
  });

  it('is fine when quiet with nothing waiting', async () => {
    expect(await check(consumer({ lag: 0 }), 3600)).toBe('ok');
  });

  it('is degraded when events wait and none was processed within the stall window, counted from start-up until the first', async () => {
    expect(await check(consumer({ lag: 3 }), 100)).toBe('ok');
    expect(await check(consumer({ lag: 3 }), 130)).toBe(
      'degraded: 3 events waiting, none processed for 130 s',
    );
    expect(await check(consumer({ processedAt: 10, lag: 7 }), 200)).toBe(
      'degraded: 7 events waiting, none processed for 190 s',
    );
  });

  it('keeps the instance ready: a stalled consumer is degraded, never a 503', async () => {
    const report = await runReadiness(
      {
        consumer: consumerProgressCheck(() => consumer({ running: false }), {
          maxStallSeconds: 120,
          startedAt,
        }),
      },
      1000,
    );
    expect(report).toMatchObject({ ok: true, degraded: true });
  });
});
