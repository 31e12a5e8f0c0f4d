import type { Knex } from 'knex';
import { markProcessed, PROCESSED_EVENTS_TABLE, writeOutbox } from '@mpb/kafka';
import { MAX_COUNTED_TOTAL } from '@mpb/service-kit';
import type { Comment } from '../domain/comment';
import type {
  CascadeStep,
  ChangeOutcome,
  CommentStore,
  CreateOutcome,
  EventOf,
  NewComment,
} from '../domain/ports';

interface CommentRow {
  id: string | number;
  post_id: string | number;
  user_id: string | number;
  text: string;
  like: number;
  blocked: boolean;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

const COLUMNS = [
  'id',
  'post_id',
  'user_id',
  'text',
  'like',
  'blocked',
  'created_at',
  'updated_at',
  'deleted_at',
] as const;

const toComment = (r: CommentRow): Comment => ({
  id: Number(r.id),
  postId: Number(r.post_id),
  userId: Number(r.user_id),
  text: r.text,
  like: r.like,
  blocked: r.blocked,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deletedAt: r.deleted_at,
});

/**
 * A transaction-level lock per post. Creating a comment takes it shared (creations run side by side),
 * the post.deleted cascade takes it exclusively: a creation either commits before the cascade looks
 * at the post's comments, or waits and then sees the post recorded as deleted.
 */
async function lockPost(trx: Knex.Transaction, postId: number, mode: 'shared' | 'exclusive'): Promise<void> {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await trx.raw(`select ${fn}(hashtextextended(?, 0))`, [`comments:post:${postId}`]);
}

export class CommentRepository implements CommentStore {
  constructor(private readonly knex: Knex) {}

  async listLiveByPost(
    postId: number,
    page: { limit: number; offset: number },
  ): Promise<{ comments: Comment[]; total: number; postDeleted: boolean }> {
    const [rows, counted, deleted] = await Promise.all([
      this.knex('comments')
        .select([...COLUMNS])
        .where({ post_id: postId })
        .whereNull('deleted_at')
        .orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(page.limit)
        .offset(page.offset) as Promise<CommentRow[]>,
      // Bounded: at most MAX_COUNTED_TOTAL + 1 index entries are read, however many comments there are.
      this.knex
        .from(
          this.knex('comments')
            .select(this.knex.raw('1'))
            .where({ post_id: postId })
            .whereNull('deleted_at')
            .limit(MAX_COUNTED_TOTAL + 1)
            .as('reachable'),
        )
        .first(this.knex.raw('count(*)::int as total')) as Promise<{ total: number } | undefined>,
      this.knex('deleted_posts').first('post_id').where({ post_id: postId }),
    ]);
    return {
      comments: rows.map(toComment),
      total: Math.min(counted?.total ?? 0, MAX_COUNTED_TOTAL),
      postDeleted: deleted !== undefined,
    };
  }

  async findById(id: number, o: { includeDeleted?: boolean } = {}): Promise<Comment | undefined> {
    const query = this.knex('comments')
      .first([...COLUMNS])
      .where({ id });
    if (!o.includeDeleted) query.whereNull('deleted_at');
    const row = (await query) as CommentRow | undefined;
    return row ? toComment(row) : undefined;
  }

  createWithEvent(comment: NewComment, event: EventOf): Promise<CreateOutcome> {
    return this.knex.transaction(async (trx) => {
      await lockPost(trx, comment.postId, 'shared');
      const deleted = await trx('deleted_posts').first('post_id').where({ post_id: comment.postId });
      if (deleted) return { outcome: 'post_deleted' };
      const [row] = (await trx('comments')
        .insert({ post_id: comment.postId, user_id: comment.userId, text: comment.text })
        .returning([...COLUMNS])) as CommentRow[];
      if (!row) throw new Error('insert returned no row');
      const created = toComment(row);
      await writeOutbox(trx, event(created));
      return { outcome: 'created', comment: created };
    });
  }

  updateTextWithEvent(id: number, userId: number, text: string, event: EventOf): Promise<ChangeOutcome> {
    return this.changeOwned(id, userId, event, (trx) => ({ text, updated_at: trx.fn.now() }));
  }

  softDeleteWithEvent(id: number, userId: number, event: EventOf): Promise<ChangeOutcome> {
    return this.changeOwned(id, userId, event, (trx) => ({ deleted_at: trx.fn.now() }));
  }

  deleteCommentsOfDeletedPost(o: {
    postId: number;
    consumer: string;
    eventId: string;
    chunkSize: number;
    event: EventOf;
  }): Promise<CascadeStep> {
    return this.knex.transaction(async (trx) => {
      await lockPost(trx, o.postId, 'exclusive');
      // Checked under the lock: a replica that finished this event meanwhile has committed its record.
      const seen = await trx(PROCESSED_EVENTS_TABLE)
        .first('event_id')
        .where({ consumer: o.consumer, event_id: o.eventId });
      if (seen) return { alreadyProcessed: true, deleted: 0, done: true };

      await trx('deleted_posts').insert({ post_id: o.postId }).onConflict('post_id').ignore();
      const rows = (await trx('comments')
        .update({ deleted_at: trx.fn.now() })
        .whereIn(
          'id',
          trx('comments')
            .select('id')
            .where({ post_id: o.postId })
            .whereNull('deleted_at')
            .orderBy('id')
            .limit(o.chunkSize)
            .forUpdate(),
        )
        .whereNull('deleted_at')
        .returning([...COLUMNS])) as CommentRow[];
      if (rows.length > 0) await writeOutbox(trx, rows.map(toComment).map(o.event));

      // New comments cannot appear while the lock is held; a user's concurrent delete may have taken
      // some of the chunk, so "done" is decided by what is left, not by the chunk's size.
      const left = await trx('comments').first('id').where({ post_id: o.postId }).whereNull('deleted_at');
      if (left) return { alreadyProcessed: false, deleted: rows.length, done: false };
      await markProcessed(trx, o.consumer, o.eventId);
      return { alreadyProcessed: false, deleted: rows.length, done: true };
    });
  }

  /** Locks the live comment, checks the owner, applies the change and writes its event. */
  private changeOwned(
    id: number,
    userId: number,
    event: EventOf,
    change: (trx: Knex.Transaction) => Record<string, unknown>,
  ): Promise<ChangeOutcome> {
    return this.knex.transaction(async (trx) => {
      const current = (await trx('comments')
        .first('user_id')
        .where({ id })
        .whereNull('deleted_at')
        .forUpdate()) as Pick<CommentRow, 'user_id'> | undefined;
      if (!current) return { outcome: 'not_found' };
      if (Number(current.user_id) !== userId) return { outcome: 'forbidden' };
      const [row] = (await trx('comments')
        .update(change(trx))
        .where({ id })
        .returning([...COLUMNS])) as CommentRow[];
      if (!row) throw new Error('update returned no row');
      const changed = toComment(row);
      await writeOutbox(trx, event(changed));
      return { outcome: 'changed', comment: changed };
    });
  }
}
