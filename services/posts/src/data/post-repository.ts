import type { Knex } from 'knex';
import type { EventEnvelope } from '@mpb/contracts';
import { writeOutbox } from '@mpb/kafka';
import { MAX_COUNTED_TOTAL } from '@mpb/service-kit';
import type { Post } from '../domain/post';
import type { NewPost, PostModification, PostStore } from '../domain/ports';
import type { ListQuery, PostChanges } from '../domain/post-input';

interface PostRow {
  id: string | number;
  user_id: string | number;
  title: string;
  description: string;
  tag: string | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

const COLUMNS = [
  'id',
  'user_id',
  'title',
  'description',
  'tag',
  'created_at',
  'updated_at',
  'deleted_at',
] as const;

/** bigint columns arrive as strings; every id fits a JavaScript number (checked at the edge). */
const toPost = (r: PostRow): Post => ({
  id: Number(r.id),
  userId: Number(r.user_id),
  title: r.title,
  description: r.description,
  tag: r.tag,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deletedAt: r.deleted_at,
});

const toColumns = (c: PostChanges): Record<string, unknown> => ({
  ...(c.title === undefined ? {} : { title: c.title }),
  ...(c.description === undefined ? {} : { description: c.description }),
  ...(c.tag === undefined ? {} : { tag: c.tag }),
});

export class PostRepository implements PostStore {
  constructor(private readonly knex: Knex) {}

  async list(query: ListQuery): Promise<{ posts: Post[]; total: number }> {
    const filtered = () => {
      const q = this.knex('posts').whereNull('deleted_at');
      if (query.tag !== undefined) q.where('tag', query.tag);
      if (query.userId !== undefined) q.where('user_id', query.userId);
      return q;
    };
    const { offset } = query;
    const rows = (await filtered()
      .select([...COLUMNS])
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(query.limit)
      .offset(offset)) as PostRow[];
    // A page that is not full is the last one: its end is the total, no count needed.
    if (rows.length < query.limit && (rows.length > 0 || offset === 0)) {
      return { posts: rows.map(toPost), total: offset + rows.length };
    }
    // Bounded: at most MAX_COUNTED_TOTAL + 1 index entries are read, however many posts there are.
    const counted = (await this.knex
      .from(
        filtered()
          .select(this.knex.raw('1'))
          .limit(MAX_COUNTED_TOTAL + 1)
          .as('reachable'),
      )
      .first(this.knex.raw('count(*)::int as total'))) as { total: number } | undefined;
    return { posts: rows.map(toPost), total: Math.min(counted?.total ?? 0, MAX_COUNTED_TOTAL) };
  }

  async findById(id: number, o: { includeDeleted?: boolean } = {}): Promise<Post | undefined> {
    const q = this.knex('posts')
      .first([...COLUMNS])
      .where({ id });
    if (!o.includeDeleted) q.whereNull('deleted_at');
    const row = (await q) as PostRow | undefined;
    return row ? toPost(row) : undefined;
  }

  async findByIds(ids: number[], o: { includeDeleted?: boolean } = {}): Promise<Post[]> {
    if (ids.length === 0) return [];
    const q = this.knex('posts')
      .select([...COLUMNS])
      .whereIn('id', ids);
    if (!o.includeDeleted) q.whereNull('deleted_at');
    return ((await q) as PostRow[]).map(toPost);
  }

  async createWithEvent(post: NewPost, event: (created: Post) => EventEnvelope): Promise<Post> {
    return this.knex.transaction(async (trx) => {
      const [row] = (await trx('posts')
        .insert({
          user_id: post.userId,
          title: post.title,
          description: post.description,
          tag: post.tag,
        })
        .returning([...COLUMNS])) as PostRow[];
      if (!row) throw new Error('insert returned no row');
      const created = toPost(row);
      await writeOutbox(trx, event(created));
      return created;
    });
  }

  async modifyLive(id: number, decide: (current: Post) => PostModification): Promise<Post | undefined> {
    return this.knex.transaction(async (trx) => {
      const row = (await trx('posts')
        .first([...COLUMNS])
        .where({ id })
        .whereNull('deleted_at')
        .forUpdate()) as PostRow | undefined;
      if (!row) return undefined;
      const modification = decide(toPost(row));
      if (modification.kind === 'none') return toPost(row);
      const columns =
        modification.kind === 'update'
          ? { ...toColumns(modification.changes), updated_at: trx.fn.now() }
          : { deleted_at: trx.fn.now() };
      const [updated] = (await trx('posts')
        .where({ id })
        .update(columns)
        .returning([...COLUMNS])) as PostRow[];
      if (!updated) throw new Error('update returned no row');
      const after = toPost(updated);
      await writeOutbox(trx, modification.event(after));
      return after;
    });
  }
}
