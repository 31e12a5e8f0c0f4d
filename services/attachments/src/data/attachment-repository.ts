import type { Knex } from 'knex';
import { markProcessed, PROCESSED_EVENTS_TABLE } from '@mpb/kafka';
import { MAX_COUNTED_TOTAL } from '@mpb/service-kit';
import type { Attachment, AttachmentState, Parent, ParentKind } from '../domain/attachment';
import type { AllowedType } from '../domain/file-type';
import type {
  AttachmentStore,
  CascadeStep,
  ClaimOutcome,
  InsertOutcome,
  NewAttachment,
} from '../domain/ports';

interface AttachmentRow {
  id: string | number;
  parent_type: ParentKind;
  parent_id: string | number;
  user_id: string | number;
  object_key: string;
  file_name: string;
  file_type: string;
  file_size: string | number;
  state: AttachmentState;
  created_at: Date;
}

const COLUMNS = [
  'id',
  'parent_type',
  'parent_id',
  'user_id',
  'object_key',
  'file_name',
  'file_type',
  'file_size',
  'state',
  'created_at',
] as const;

const toAttachment = (r: AttachmentRow): Attachment => ({
  id: Number(r.id),
  parent: { kind: r.parent_type, id: Number(r.parent_id) },
  userId: Number(r.user_id),
  objectKey: r.object_key,
  fileName: r.file_name,
  fileType: r.file_type as AllowedType,
  fileSize: Number(r.file_size),
  state: r.state,
  createdAt: r.created_at,
});

/**
 * A transaction-level lock per parent. Uploads take it shared (they run side by side), the cascade
 * exclusively: an upload's pending row either exists before the cascade claims the parent's rows,
 * or is refused because the parent is then recorded as deleted.
 */
async function lockParent(
  trx: Knex.Transaction,
  parent: Parent,
  mode: 'shared' | 'exclusive',
): Promise<void> {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await trx.raw(`select ${fn}(hashtextextended(?, 0))`, [`attachments:${parent.kind}:${parent.id}`]);
}

/** Escapes LIKE's wildcards so a key prefix matches literally. */
const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export class AttachmentRepository implements AttachmentStore {
  constructor(private readonly knex: Knex) {}

  insertPending(a: NewAttachment): Promise<InsertOutcome> {
    return this.knex.transaction(async (trx) => {
      await lockParent(trx, a.parent, 'shared');
      const deleted = await trx('deleted_parents')
        .first('parent_id')
        .where({ parent_type: a.parent.kind, parent_id: a.parent.id });
      if (deleted) return { outcome: 'parent_deleted' };
      const [row] = (await trx('attachments')
        .insert({
          parent_type: a.parent.kind,
          parent_id: a.parent.id,
          user_id: a.userId,
          object_key: a.objectKey,
          file_name: a.fileName,
          file_type: a.fileType,
        })
        .returning(['id'])) as Array<{ id: string | number }>;
      if (!row) throw new Error('insert returned no row');
      return { outcome: 'inserted', id: Number(row.id) };
    });
  }

  async markReady(files: Array<{ id: number; size: number }>): Promise<Attachment[]> {
    if (files.length === 0) return [];
    const { rows } = (await this.knex.raw(
      `update attachments a
          set state = 'ready', file_size = f.size, updated_at = now()
         from unnest(?::bigint[], ?::bigint[]) as f(id, size)
        where a.id = f.id and a.state = 'pending'
      returning ${COLUMNS.map((c) => `a.${c}`).join(', ')}`,
      [files.map((f) => f.id), files.map((f) => f.size)],
    )) as { rows: AttachmentRow[] };
    return rows.map(toAttachment).sort((x, y) => x.id - y.id);
  }

  async removeRows(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.knex('attachments').whereIn('id', ids).delete();
  }

  async listReady(
    parent: Parent,
    window: { limit: number; offset: number; countTotal: boolean },
  ): Promise<{ attachments: Attachment[]; total?: number; parentDeleted: boolean }> {
    const ready = () =>
      this.knex('attachments').where({ parent_type: parent.kind, parent_id: parent.id, state: 'ready' });
    const [rows, counted, deleted] = await Promise.all([
      ready()
        .select([...COLUMNS])
        .orderBy('id')
        .limit(window.limit)
        .offset(window.offset) as Promise<AttachmentRow[]>,
      // Bounded: at most MAX_COUNTED_TOTAL + 1 index entries are read, however many files there are.
      window.countTotal
        ? (this.knex
            .from(
              ready()
                .select(this.knex.raw('1'))
                .limit(MAX_COUNTED_TOTAL + 1)
                .as('reachable'),
            )
            .first(this.knex.raw('count(*)::int as total')) as Promise<{ total: number } | undefined>)
        : undefined,
      this.knex('deleted_parents')
        .first('parent_id')
        .where({ parent_type: parent.kind, parent_id: parent.id }),
    ]);
    return {
      attachments: rows.map(toAttachment),
      ...(window.countTotal ? { total: Math.min(counted?.total ?? 0, MAX_COUNTED_TOTAL) } : {}),
      parentDeleted: deleted !== undefined,
    };
  }

  async findReady(kind: ParentKind, id: number): Promise<Attachment | undefined> {
    const row = (await this.knex('attachments as a')
      .first(COLUMNS.map((c) => `a.${c}`))
      .where({ 'a.id': id, 'a.parent_type': kind, 'a.state': 'ready' })
      .whereNotExists(
        this.knex('deleted_parents as d')
          .select(this.knex.raw('1'))
          .whereRaw('d.parent_type = a.parent_type and d.parent_id = a.parent_id'),
      )) as AttachmentRow | undefined;
    return row ? toAttachment(row) : undefined;
  }

  claimForDelete(kind: ParentKind, id: number, userId: number): Promise<ClaimOutcome> {
    return this.knex.transaction(async (trx) => {
      const current = (await trx('attachments')
        .first('user_id')
        .where({ id, parent_type: kind, state: 'ready' })
        .forUpdate()) as Pick<AttachmentRow, 'user_id'> | undefined;
      if (!current) return { outcome: 'not_found' };
      if (Number(current.user_id) !== userId) return { outcome: 'forbidden' };
      const [row] = (await trx('attachments')
        .update({ state: 'deleting', updated_at: trx.fn.now() })
        .where({ id })
        .returning([...COLUMNS])) as AttachmentRow[];
      if (!row) throw new Error('update returned no row');
      return { outcome: 'claimed', attachment: toAttachment(row) };
    });
  }

  cascadeStep(o: { parent: Parent; consumer: string; eventId: string; limit: number }): Promise<CascadeStep> {
    return this.knex.transaction(async (trx) => {
      await lockParent(trx, o.parent, 'exclusive');
      const seen = await trx(PROCESSED_EVENTS_TABLE)
        .first('event_id')
        .where({ consumer: o.consumer, event_id: o.eventId });
      if (seen) return { alreadyProcessed: true, claimed: [] };
      await trx('deleted_parents')
        .insert({ parent_type: o.parent.kind, parent_id: o.parent.id })
        .onConflict(['parent_type', 'parent_id'])
        .ignore();
      // Rows already `deleting` are taken again: a previous attempt may have failed after claiming them.
      const rows = (await trx('attachments')
        .update({ state: 'deleting', updated_at: trx.fn.now() })
        .whereIn(
          'id',
          trx('attachments')
            .select('id')
            .where({ parent_type: o.parent.kind, parent_id: o.parent.id })
            .orderBy('id')
            .limit(o.limit)
            .forUpdate(),
        )
        .returning([...COLUMNS])) as AttachmentRow[];
      if (rows.length === 0) await markProcessed(trx, o.consumer, o.eventId);
      return { alreadyProcessed: false, claimed: rows.map(toAttachment) };
    });
  }

  async claimStale(o: { keyPrefix: string; graceSeconds: number; limit: number }): Promise<Attachment[]> {
    const { rows } = (await this.knex.raw(
      `update attachments set state = 'deleting', updated_at = now()
        where id in (
          select id from attachments
           where object_key like ?
             and ((state = 'pending' and created_at < now() - make_interval(secs => ?))
               or (state = 'deleting' and updated_at < now() - make_interval(secs => ?)))
           order by id
           limit ?
           for update skip locked)
      returning ${COLUMNS.join(', ')}`,
      [likePrefix(o.keyPrefix), o.graceSeconds, o.graceSeconds, o.limit],
    )) as { rows: AttachmentRow[] };
    return rows.map(toAttachment);
  }

  async referencedKeys(keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = (await this.knex('attachments').select('object_key').whereIn('object_key', keys)) as Array<{
      object_key: string;
    }>;
    return new Set(rows.map((r) => r.object_key));
  }
}
