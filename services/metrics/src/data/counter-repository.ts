import type { Knex } from 'knex';
import { unavailable } from '@mpb/errors';
import type { Snapshot } from '../domain/counts';
import { planFold } from '../domain/fold';
import type { MetricEvent } from '../domain/events';
import type { CounterStore, FoldLedger, FoldOutcome, LikerEntry } from '../domain/ports';

interface CounterRow {
  post_id: string;
  views: string;
  likes: string;
  version: string;
  view_epoch: string;
  epoch_views: string;
}

type WrittenRow = CounterRow & { kind: 'counters' | 'like'; user_id: string; liked: boolean; seq: string };

interface LikeRow {
  post_id: string;
  user_id: string;
  liked: boolean;
  seq: string;
}

/**
 * Advisory-lock class of per-post locks: folds take them shared (they may run in parallel on
 * different partitions), a deletion exclusive, so no fold can write rows of a post whose deletion is
 * committing. Post ids are folded into the lock's 32-bit key; a collision only serialises two posts.
 */
const POST_LOCK_CLASS = 7_300_055;
const LOCK_KEY = `(p % 2147483647)::int`;

const toSnapshot = (r: CounterRow): Snapshot => ({
  version: Number(r.version),
  views: Number(r.views),
  likes: Number(r.likes),
  viewEpoch: Number(r.view_epoch),
  epochViews: Number(r.epoch_views),
});

async function readSnapshots(db: Knex, postIds: number[]): Promise<Map<number, Snapshot>> {
  if (postIds.length === 0) return new Map();
  const { rows } = await db.raw<{ rows: CounterRow[] }>(
    `select post_id, views, likes, version, view_epoch, epoch_views
       from post_counters where post_id = any(?::bigint[])`,
    [postIds],
  );
  return new Map(rows.map((r) => [Number(r.post_id), toSnapshot(r)]));
}

/** What the API reads from PostgreSQL when Redis lacks it; failures are 503s. */
export class PgCounterStore implements CounterStore {
  constructor(private readonly knex: Knex) {}

  snapshots(postIds: number[]): Promise<Map<number, Snapshot>> {
    return this.guard(() => readSnapshots(this.knex, postIds));
  }

  likers(postId: number, afterUserId: number, limit: number): Promise<LikerEntry[]> {
    return this.guard(async () => {
      const { rows } = await this.knex.raw<{ rows: LikeRow[] }>(
        `select user_id, seq from post_likes
          where post_id = ? and user_id > ? and liked
          order by user_id limit ?`,
        [postId, afterUserId, limit],
      );
      return rows.map((r) => ({ userId: Number(r.user_id), liked: true, seq: Number(r.seq) }));
    });
  }

  likeOf(postId: number, userId: number): Promise<LikerEntry | undefined> {
    return this.guard(async () => {
      const { rows } = await this.knex.raw<{ rows: LikeRow[] }>(
        `select user_id, liked, seq from post_likes where post_id = ? and user_id = ?`,
        [postId, userId],
      );
      const r = rows[0];
      return r && { userId: Number(r.user_id), liked: r.liked, seq: Number(r.seq) };
    });
  }

  private async guard<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      throw unavailable('counters unavailable', { cause: err });
    }
  }
}

/** The consumer's transactions. Errors propagate as they are: the consumer retries them. */
export class PgFoldLedger implements FoldLedger {
  constructor(private readonly knex: Knex) {}

  /**
   * Four round trips whatever the batch size: BEGIN; lock the partition's offset row and the batch's
   * posts; one statement writing the like rows, the counters (views summed per post, likes moved by
   * the like rows that changed) and the offset; COMMIT.
   */
  apply(topic: string, partition: number, events: MetricEvent[]): Promise<FoldOutcome> {
    return this.knex.transaction(async (trx) => {
      const allPosts = [...new Set(events.map((e) => e.postId))].sort((a, b) => a - b);
      const stored = await this.lock(trx, topic, partition, allPosts);
      const fresh = events.filter((e) => BigInt(e.offset) > stored);
      if (fresh.length === 0) return { applied: 0, skipped: events.length, snapshots: new Map(), likers: [] };
      const plan = planFold(fresh);
      const views = [...plan.views];
      // Each statement after the lock sees a deletion committed before it: deleted posts are left out.
      const { rows } = await trx.raw<{ rows: WrittenRow[] }>(
        `with changed as (
           insert into post_likes as l (post_id, user_id, liked, seq)
           select t.post_id, t.user_id, t.liked, t.seq
             from unnest(?::bigint[], ?::bigint[], ?::boolean[], ?::bigint[]) as t(post_id, user_id, liked, seq)
            where not exists (select 1 from deleted_posts d where d.post_id = t.post_id)
           on conflict (post_id, user_id) do update
             set was_liked = l.liked, liked = excluded.liked, seq = excluded.seq, updated_at = now()
             where l.seq < excluded.seq
           returning l.post_id, l.user_id, l.liked, l.was_liked, l.seq
         ),
         folded as (
           select post_id, sum(views) as views, sum(likes) as likes, max(epoch) as epoch,
                  sum(epoch_views) as epoch_views
             from (select v.post_id, v.views, 0 as likes, v.epoch, v.epoch_views
                     from unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[]) as v(post_id, views, epoch, epoch_views)
                    where not exists (select 1 from deleted_posts d where d.post_id = v.post_id)
                   union all
                   select post_id, 0, liked::int - was_liked::int, 0, 0 from changed) as x
            group by post_id
           having sum(views) > 0 or sum(likes) <> 0
         ),
         counters as (
           insert into post_counters as c (post_id, views, likes, version, view_epoch, epoch_views)
           select post_id, views, likes, 1, epoch, epoch_views from folded
           on conflict (post_id) do update set
             views = c.views + excluded.views,
             likes = c.likes + excluded.likes,
             version = c.version + 1,
             epoch_views = case
               when excluded.view_epoch > c.view_epoch then excluded.epoch_views
               when excluded.view_epoch = c.view_epoch then c.epoch_views + excluded.epoch_views
               else c.epoch_views end,
             view_epoch = greatest(c.view_epoch, excluded.view_epoch),
             updated_at = now()
           returning c.post_id, c.views, c.likes, c.version, c.view_epoch, c.epoch_views
         ),
         offsets as (
           update applied_offsets set applied_offset = ?, updated_at = now() where topic = ? and partition = ?
         )
         select 'counters' as kind, post_id, views, likes, version, view_epoch, epoch_views,
                null::bigint as user_id, null::boolean as liked, null::bigint as seq
           from counters
         union all
         select 'like', post_id, null, null, null, null, null, user_id, liked, seq from changed`,
        [
          plan.likes.map((c) => c.postId),
          plan.likes.map((c) => c.userId),
          plan.likes.map((c) => c.liked),
          plan.likes.map((c) => c.seq),
          views.map(([postId]) => postId),
          views.map(([, v]) => v.views),
          views.map(([, v]) => v.epoch),
          views.map(([, v]) => v.epochViews),
          plan.lastOffset,
          topic,
          partition,
        ],
      );
      const snapshots = new Map<number, Snapshot>();
      const likers: Array<LikerEntry & { postId: number }> = [];
      for (const r of rows) {
        if (r.kind === 'counters') snapshots.set(Number(r.post_id), toSnapshot(r));
        else
          likers.push({
            postId: Number(r.post_id),
            userId: Number(r.user_id),
            liked: r.liked,
            seq: Number(r.seq),
          });
      }
      return { applied: fresh.length, skipped: events.length - fresh.length, snapshots, likers };
    });
  }

  snapshots(postIds: number[]): Promise<Map<number, Snapshot>> {
    return readSnapshots(this.knex, postIds);
  }

  async likeStates(
    pairs: Array<{ postId: number; userId: number }>,
  ): Promise<Array<LikerEntry & { postId: number }>> {
    const { rows } = await this.knex.raw<{ rows: LikeRow[] }>(
      `select l.post_id, l.user_id, l.liked, l.seq
         from post_likes l
         join unnest(?::bigint[], ?::bigint[]) as t(post_id, user_id)
           on l.post_id = t.post_id and l.user_id = t.user_id`,
      [pairs.map((p) => p.postId), pairs.map((p) => p.userId)],
    );
    return rows.map((r) => ({
      postId: Number(r.post_id),
      userId: Number(r.user_id),
      liked: r.liked,
      seq: Number(r.seq),
    }));
  }

  async deletePost(postId: number): Promise<void> {
    await this.knex.transaction(async (trx) => {
      await trx.raw(`select pg_advisory_xact_lock(?, ${LOCK_KEY}) from (select ?::bigint as p) as x`, [
        POST_LOCK_CLASS,
        postId,
      ]);
      await trx.raw('insert into deleted_posts (post_id) values (?) on conflict (post_id) do nothing', [
        postId,
      ]);
      await trx.raw('delete from post_counters where post_id = ?', [postId]);
      await trx.raw('delete from post_likes where post_id = ?', [postId]);
    });
  }

  /**
   * The partition's stored offset (-1 when none), its row locked until the transaction ends, so a
   * second consumer of the partition (during a rebalance) waits and then skips what this one applied.
   * Also takes the shared lock of every post of the batch (a deletion takes it exclusively).
   */
  private async lock(
    trx: Knex.Transaction,
    topic: string,
    partition: number,
    posts: number[],
  ): Promise<bigint> {
    const select = () =>
      trx.raw<{ rows: Array<{ applied_offset: string }> }>(
        `select applied_offset,
                (select count(pg_advisory_xact_lock_shared(?, ${LOCK_KEY})) from unnest(?::bigint[]) as p) as locks
           from applied_offsets where topic = ? and partition = ? for update`,
        [POST_LOCK_CLASS, posts, topic, partition],
      );
    let { rows } = await select();
    if (rows.length === 0) {
      await trx.raw(
        `insert into applied_offsets (topic, partition, applied_offset) values (?, ?, -1)
         on conflict (topic, partition) do nothing`,
        [topic, partition],
      );
      ({ rows } = await select());
    }
    return BigInt(rows[0]!.applied_offset);
  }
}
