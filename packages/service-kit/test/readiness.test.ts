import type { Knex } from 'knex';
import { dependencyChecks, runReadiness } from '../src';

function deps(o: { connected?: boolean; oldestAgeSeconds?: number; databaseDown?: boolean } = {}) {
  return {
    knex: {
      raw: async () => (o.databaseDown ? Promise.reject(new Error('database down')) : { rows: [] }),
    } as unknown as Knex,
    events: {
      kafka: { ping: async () => undefined },
      producer: { isConnected: () => o.connected ?? true },
      relay: { backlog: async () => ({ count: 3, oldestAgeSeconds: o.oldestAgeSeconds ?? 0 }) },
    },
    outboxMaxLagSeconds: 60,
  };
}

describe('dependencyChecks', () => {
  it('passes when every dependency answers and the outbox drains', async () => {
    await expect(runReadiness(dependencyChecks(deps()), 1000)).resolves.toEqual({
      ok: true,
      checks: { database: 'ok', kafka: 'ok', outbox: 'ok' },
    });
  });

  it('names the failing dependency: an unreachable database, a disconnected producer, a stuck outbox', async () => {
    const r = await runReadiness(
      dependencyChecks(deps({ connected: false, databaseDown: true, oldestAgeSeconds: 90.4 })),
      1000,
    );
    expect(r.ok).toBe(false);
    expect(r.checks).toEqual({
      database: 'database down',
      kafka: 'producer not connected',
      outbox: '3 events unpublished, oldest 90 s old',
    });
  });
});
