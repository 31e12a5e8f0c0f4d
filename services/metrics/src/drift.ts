import type { Knex } from 'knex';
import { Gauge, type Registry } from 'prom-client';
import { countsOf, type Snapshot } from './domain/counts';
import { GONE } from './domain/ports';
import type { RedisCounterCache } from './data/redis-counter-cache';

export interface DriftSample {
  /** Posts compared. */
  posts: number;
  /** Views the API answers from Redis that PostgreSQL has not folded yet, summed. */
  views: number;
  /** Likes on which Redis and PostgreSQL disagree, summed as absolute differences. */
  likes: number;
  /** Posts with any difference. */
  drifting: number;
}

interface Row {
  post_id: string;
  views: string;
  likes: string;
  version: string;
  view_epoch: string;
  epoch_views: string;
}

/**
 * Compares what the API answers (Redis, with PostgreSQL's snapshot underneath) with what
 * PostgreSQL has folded, for the newest `sampleSize` posts that have counters. In steady state the
 * view drift is the events in flight (producer batches and consumer lag) and the like drift is 0;
 * a drift that stays high means the consumer is stuck or Redis lost writes it should not have.
 */
export async function sampleDrift(
  knex: Knex,
  cache: RedisCounterCache,
  sampleSize: number,
): Promise<DriftSample> {
  // Newest posts first, by primary key: the busy ones, and no scan of the whole table per scrape.
  const { rows } = await knex.raw<{ rows: Row[] }>(
    `select post_id, views, likes, version, view_epoch, epoch_views
       from post_counters order by post_id desc limit ?`,
    [sampleSize],
  );
  const sample: DriftSample = { posts: 0, views: 0, likes: 0, drifting: 0 };
  if (rows.length === 0) return sample;
  const states = await cache.read(
    rows.map((r) => Number(r.post_id)),
    0,
  );
  rows.forEach((row, i) => {
    const state = states[i];
    if (!state || state === GONE) return; // deleted: its counters are on their way out
    const folded: Snapshot = {
      version: Number(row.version),
      views: Number(row.views),
      likes: Number(row.likes),
      viewEpoch: Number(row.view_epoch),
      epochViews: Number(row.epoch_views),
    };
    // Redis may hold an older snapshot than PostgreSQL (the consumer refreshes it after a fold).
    const snapshot = state.snapshot && state.snapshot.version >= folded.version ? state.snapshot : folded;
    const answered = countsOf(state, snapshot);
    const views = Math.abs(answered.views - folded.views);
    const likes = Math.abs(answered.likes - folded.likes);
    sample.posts++;
    sample.views += views;
    sample.likes += likes;
    if (views + likes > 0) sample.drifting++;
  });
  return sample;
}

/** Gauges filled at each scrape; a failed comparison (Redis or PostgreSQL down) keeps the last values. */
export function registerDriftGauges(o: {
  registry: Registry;
  knex: Knex;
  cache: RedisCounterCache;
  sampleSize: number;
}): void {
  let last: { at: number; sample: Promise<DriftSample | undefined> } | undefined;
  // One comparison serves every gauge of a scrape.
  const read = () => {
    if (!last || Date.now() - last.at > 1000) {
      last = { at: Date.now(), sample: sampleDrift(o.knex, o.cache, o.sampleSize).catch(() => undefined) };
    }
    return last.sample;
  };
  const registers = [o.registry];
  new Gauge({
    name: 'mpb_metrics_counter_drift',
    help: 'Difference between the counts the API answers from Redis and the totals folded into PostgreSQL, over the newest posts',
    labelNames: ['counter'],
    registers,
    async collect() {
      const s = await read();
      if (!s) return;
      this.set({ counter: 'views' }, s.views);
      this.set({ counter: 'likes' }, s.likes);
    },
  });
  new Gauge({
    name: 'mpb_metrics_counter_drift_posts',
    help: 'Posts among the sampled ones whose Redis and PostgreSQL counts differ',
    registers,
    async collect() {
      const s = await read();
      if (s) this.set(s.drifting);
    },
  });
}
