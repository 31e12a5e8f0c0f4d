import type { Knex } from 'knex';
import { dependencyChecks, runReadiness } from '../src';

function deps(o: { connected?: boolean; oldestAgeSeconds?: number; redisDown?: boolean } = {}) {
  return {
    knex: { raw: async () => ({ rows: [] }) } as unknown as Knex,
    redis: { ping: async () => (o.redisDown ? Promise.reject(new Error('redis down')) : 'PONG') },
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
      checks: { database: 'ok', redis: 'ok', kafka: 'ok', outbox: 'ok' },
    });
  });

  it('names the failing dependency: a disconnected producer, an unreachable Redis, a stuck outbox', async () => {
    const r = await runReadiness(
      dependencyChecks(deps({ connected: false, redisDown: true, oldestAgeSeconds: 90.4 })),
      1000,
    );
    expect(r.ok).toBe(false);
    expect(r.checks).toEqual({
      database: 'ok',
      redis: 'redis down',
      kafka: 'producer not connected',
      outbox: '3 events unpublished, oldest 90 s old',
    });
  });
});
