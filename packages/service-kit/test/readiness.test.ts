import type { Knex } from 'knex';
import { dependencyChecks, runReadiness } from '../src';

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
