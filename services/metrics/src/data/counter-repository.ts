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

  likedBy(userId: number, postIds: number[]): Promise<Set<number>> {
    return this.guard(async () => {
      const { rows } = await this.knex.raw<{ rows: Array<{ post_id: string }> }>(
        `select post_id from post_likes where post_id = any(?::bigint[]) and user_id = ? and liked`,
        [postIds, userId],
      );
      return new Set(rows.map((r) => Number(r.post_id)));
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

  apply(topic: string, partition: number, events: MetricEvent[]): Promise<FoldOutcome> {
    return this.knex.transaction(async (trx) => {
      const stored = await this.lockOffset(trx, topic, partition);
      const fresh = events.filter((e) => BigInt(e.offset) > stored);
      if (fresh.length === 0) return { applied: 0, skipped: events.length };
      const plan = planFold(fresh);

      await trx.raw(
        `select pg_advisory_xact_lock_shared(?, ${LOCK_KEY}) from unnest(?::bigint[]) as p`,
        [POST_LOCK_CLASS, plan.posts],
      );
      const likeDeltas = plan.likes.length > 0 ? await this.applyLikes(trx, plan.likes) : new Map();

      const ids: number[] = [];
      const views: number[] = [];
      const likes: number[] = [];
      const epochs: number[] = [];
      const epochViews: number[] = [];
      for (const postId of plan.posts) {
        const v = plan.views.get(postId);
        const l = likeDeltas.get(postId) ?? 0;
        if (!v && l === 0) continue;
        ids.push(postId);
        views.push(v?.views ?? 0);
        likes.push(l);
        epochs.push(v?.epoch ?? 0);
        epochViews.push(v?.epochViews ?? 0);
      }
      if (ids.length > 0) {
        // A deleted post is never re-created by a late event.
        await trx.raw(
          `insert into post_counters as c (post_id, views, likes, version, view_epoch, epoch_views)
           select t.post_id, t.views, t.likes, 1, t.epoch, t.epoch_views
             from unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[])
                  as t(post_id, views, likes, epoch, epoch_views)
            where not exists (select 1 from deleted_posts d where d.post_id = t.post_id)
           on conflict (post_id) do update set
             views = c.views + excluded.views,
             likes = c.likes + excluded.likes,
             version = c.version + 1,
             epoch_views = case
               when excluded.view_epoch > c.view_epoch then excluded.epoch_views
               when excluded.view_epoch = c.view_epoch then c.epoch_views + excluded.epoch_views
               else c.epoch_views end,
             view_epoch = greatest(c.view_epoch, excluded.view_epoch),
             updated_at = now()`,
          [ids, views, likes, epochs, epochViews],
        );
      }
      await trx.raw(
        `update applied_offsets set applied_offset = ?, updated_at = now() where topic = ? and partition = ?`,
        [plan.lastOffset, topic, partition],
      );
      return { applied: fresh.length, skipped: events.length - fresh.length };
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
      await trx.raw('insert into deleted_posts (post_id) values (?) on conflict (post_id) do nothing', [postId]);
      await trx.raw('delete from post_counters where post_id = ?', [postId]);
      await trx.raw('delete from post_likes where post_id = ?', [postId]);
    });
  }

  /** The partition's stored offset (-1 when none), its row locked until the transaction ends. */
  private async lockOffset(trx: Knex.Transaction, topic: string, partition: number): Promise<bigint> {
    const select = () =>
      trx.raw<{ rows: Array<{ applied_offset: string }> }>(
        'select applied_offset from applied_offsets where topic = ? and partition = ? for update',
        [topic, partition],
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

  /**
   * Applies the last decision per (post, user), unless the row holds a newer one (higher sequence),
   * and returns how each post's number of likes changed.
   */
  private async applyLikes(
    trx: Knex.Transaction,
    changes: Array<{ postId: number; userId: number; liked: boolean; seq: number }>,
  ): Promise<Map<number, number>> {
    const { rows } = await trx.raw<{ rows: Array<{ post_id: string; delta: string }> }>(
      `with input as (
         select * from unnest(?::bigint[], ?::bigint[], ?::boolean[], ?::bigint[]) as t(post_id, user_id, liked, seq)
          where not exists (select 1 from deleted_posts d where d.post_id = t.post_id)
       ),
       before as (
         select l.post_id, l.user_id, l.liked
           from post_likes l join input i on l.post_id = i.post_id and l.user_id = i.user_id
       ),
       changed as (
         insert into post_likes as l (post_id, user_id, liked, seq)
         select post_id, user_id, liked, seq from input
         on conflict (post_id, user_id) do update
           set liked = excluded.liked, seq = excluded.seq, updated_at = now()
           where l.seq < excluded.seq
         returning l.post_id, l.user_id, l.liked
       )
       select c.post_id, sum(c.liked::int - coalesce(b.liked, false)::int) as delta
         from changed c left join before b on b.post_id = c.post_id and b.user_id = c.user_id
        group by c.post_id`,
      [
        changes.map((c) => c.postId),
        changes.map((c) => c.userId),
        changes.map((c) => c.liked),
        changes.map((c) => c.seq),
      ],
    );
    return new Map(rows.map((r) => [Number(r.post_id), Number(r.delta)]));
  }
}
