import { createLogger } from '@mpb/logger';
import {
  followSessionRevocations,
  SessionRevocations,
  type RevocationFeed,
  type RevocationFeedPage,
} from '../src';

const logger = createLogger({ service: 'test', level: 'silent' });
const MINUTE = 60_000;

/** A feed answering from a script: each read takes the next answer (or throws it). */
function scripted(answers: Array<RevocationFeedPage | Error>) {
  const cursors: string[] = [];
  const feed: RevocationFeed = {
    async read(cursor) {
      cursors.push(cursor);
      const next = answers.shift();
      if (!next) return { sessions: [], nextCursor: cursor, hasMore: false, reset: false };
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return { feed, cursors };
}

const page = (
  ids: string[],
  nextCursor: string,
  o: Partial<RevocationFeedPage> = {},
): RevocationFeedPage => ({
  sessions: ids.map((sessionId) => ({ sessionId, expiresAtMs: Date.now() + 15 * MINUTE })),
  nextCursor,
  hasMore: false,
  reset: false,
  ...o,
});

describe('SessionRevocations', () => {
  it('answers 503 (UNAVAILABLE) until the whole set has been loaded once', async () => {
    const { feed } = scripted([new Error('auth unreachable'), page(['a'], '1', { reset: true })]);
    const r = new SessionRevocations({ feed, logger });
    expect(() => r.isRevoked('a')).toThrow(expect.objectContaining({ code: 'UNAVAILABLE' }));
    await expect(r.sync()).rejects.toThrow('auth unreachable');
    expect(() => r.isRevoked('a')).toThrow(expect.objectContaining({ code: 'UNAVAILABLE' }));
    await r.sync();
    expect(r.isRevoked('a')).toBe(true);
    expect(r.isRevoked('b')).toBe(false);
  });

  it('follows the cursor page by page and adds what is new', async () => {
    const { feed, cursors } = scripted([
      page(['a'], '1', { reset: true, hasMore: true }),
      page(['b'], '2'),
      page(['c'], '3'),
    ]);
    const r = new SessionRevocations({ feed, logger });
    await r.sync();
    await r.sync();
    expect(cursors).toEqual(['', '1', '2']);
    expect(['a', 'b', 'c', 'd'].map((s) => r.isRevoked(s))).toEqual([true, true, true, false]);
  });

  it('keeps the last known set while auth is unreachable', async () => {
    const { feed, cursors } = scripted([
      page(['a'], '1', { reset: true }),
      new Error('down'),
      page(['b'], '2'),
    ]);
    const r = new SessionRevocations({ feed, logger });
    await r.sync();
    await expect(r.sync()).rejects.toThrow('down');
    expect(r.isRevoked('a')).toBe(true);
    await r.sync();
    expect(cursors).toEqual(['', '1', '1']);
    expect(r.isRevoked('b')).toBe(true);
  });

  it('replaces the set on a reset only once the reset is complete', async () => {
    const { feed } = scripted([
      page(['a', 'b'], '2', { reset: true }),
      page(['c'], '9', { reset: true, hasMore: true }),
      new Error('down'),
      page(['c'], '9', { reset: true, hasMore: true }),
      page(['d'], '10'),
    ]);
    const r = new SessionRevocations({ feed, logger });
    await r.sync();
    await expect(r.sync()).rejects.toThrow('down');
    // The half-read reset changed nothing.
    expect(['a', 'b', 'c'].map((s) => r.isRevoked(s))).toEqual([true, true, false]);
    await r.sync();
    expect(['a', 'b', 'c', 'd'].map((s) => r.isRevoked(s))).toEqual([false, false, true, true]);
  });

  it('bounds the set, dropping the oldest revocation first, and forgets expired ones', async () => {
    let now = Date.now();
    const { feed } = scripted([
      {
        sessions: [
          { sessionId: 'gone', expiresAtMs: now - 2 * MINUTE },
          { sessionId: 'a', expiresAtMs: now + MINUTE },
          { sessionId: 'b', expiresAtMs: now + 10 * MINUTE },
          { sessionId: 'c', expiresAtMs: now + 10 * MINUTE },
        ],
        nextCursor: '4',
        hasMore: false,
        reset: true,
      },
    ]);
    const r = new SessionRevocations({ feed, logger, maxEntries: 2, clock: () => now });
    await r.sync();
    expect(['gone', 'a', 'b', 'c'].map((s) => r.isRevoked(s))).toEqual([false, false, true, true]);
    expect(r.status()).toMatchObject({ size: 2, evicted: 1, synced: true });
    now += 12 * MINUTE;
    await r.sync();
    expect(r.status().size).toBe(0);
  });

  it('polls on its own once started, and stops', async () => {
    const { feed, cursors } = scripted([page(['a'], '1', { reset: true }), page(['b'], '2')]);
    const r = new SessionRevocations({ feed, logger, pollIntervalMs: 10 }).start();
    await r.ready(2000);
    const deadline = Date.now() + 2000;
    while (!r.isRevoked('b') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    expect(r.isRevoked('b')).toBe(true);
    await r.stop();
    const reads = cursors.length;
    await new Promise((res) => setTimeout(res, 50));
    expect(cursors.length).toBe(reads);
  });

  it('starts without the set when auth cannot be reached within the start-up wait, and says so', async () => {
    const started = Date.now();
    // Port 1: nothing listens, the connection is refused at once.
    const r = await followSessionRevocations('127.0.0.1:1', logger, { startupWaitMs: 300 });
    try {
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(r.status().synced).toBe(false);
      expect(() => r.isRevoked('a')).toThrow(expect.objectContaining({ code: 'UNAVAILABLE' }));
    } finally {
      await r.stop();
    }
  });
});
