import type { RevocationRecords } from './ports';
import { MAX_REVOCATIONS_PER_PAGE, readRevocationPage } from './revocation-feed';

/** A store of `count` revocations numbered 1..count, the first `expired` of them past their expiry. */
function store(count: number, expired = 0) {
  const asked: number[] = [];
  const read = async (afterSeq: number, limit: number): Promise<RevocationRecords> => {
    asked.push(afterSeq);
    const entries = [];
    for (let seq = Math.max(afterSeq, expired) + 1; seq <= count && entries.length < limit; seq += 1)
      entries.push({ seq, sessionId: `s${seq}`, expiresAt: new Date(seq) });
    return { entries, latestSeq: count };
  };
  return { read, asked };
}

describe('the revocation feed', () => {
  it('starts from the beginning for an empty cursor, with reset set', async () => {
    const page = await readRevocationPage(store(3).read, '', 0);
    expect(page).toMatchObject({ nextCursor: '3', hasMore: false, reset: true });
    expect(page.sessions.map((s) => s.sessionId)).toEqual(['s1', 's2', 's3']);
  });

  it('continues after the cursor without reset, and pages with has_more', async () => {
    const s = store(5);
    const first = await readRevocationPage(s.read, '1', 2);
    expect(first).toMatchObject({ nextCursor: '3', hasMore: true, reset: false });
    expect(first.sessions.map((e) => e.sessionId)).toEqual(['s2', 's3']);
    const second = await readRevocationPage(s.read, first.nextCursor, 2);
    expect(second).toMatchObject({ nextCursor: '5', hasMore: true, reset: false });
    const last = await readRevocationPage(s.read, second.nextCursor, 2);
    expect(last).toMatchObject({ sessions: [], nextCursor: '5', hasMore: false, reset: false });
  });

  it('moves the cursor past expired revocations it leaves out', async () => {
    const page = await readRevocationPage(store(4, 3).read, '', 0);
    expect(page.sessions.map((s) => s.sessionId)).toEqual(['s4']);
    expect(page.nextCursor).toBe('4');
  });

  it.each([
    ['ahead of the records (a restored database)', '99'],
    ['malformed', 'x;drop'],
    ['negative', '-1'],
    ['too long', '1'.repeat(16)],
  ])('answers a cursor %s from the start with reset', async (_name, cursor) => {
    const page = await readRevocationPage(store(2).read, cursor, 0);
    expect(page).toMatchObject({ nextCursor: '2', reset: true });
    expect(page.sessions.map((s) => s.sessionId)).toEqual(['s1', 's2']);
  });

  it('keeps a page within its bounds', async () => {
    const s = store(MAX_REVOCATIONS_PER_PAGE + 5);
    expect((await readRevocationPage(s.read, '', 0)).sessions).toHaveLength(MAX_REVOCATIONS_PER_PAGE);
    for (const limit of [-1, 1.5, MAX_REVOCATIONS_PER_PAGE + 1])
      await expect(readRevocationPage(s.read, '', limit)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
