import { Client } from 'pg';
import { api, newUser, serviceUrl, uniq, type ApiOptions, type ApiResponse } from './client';

/**
 * A burst of the longest edits must not wedge the events of posts: the audit's attempt (about 60
 * concurrent PUTs with 20 000-character CJK descriptions, 60 KB each) once put more than Kafka's
 * 1 MiB into one relay batch, the broker refused it and every later post event, deletions included,
 * stayed in the outbox for good.
 */
const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const DB_SUFFIX = process.env.E2E_DB_SUFFIX || '_e2e';

describe('post events after a burst of long edits', () => {
  const waitFor = async <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  /** A setup call, tried again while a busy machine answers 502/503/504 (as a client would). */
  const settled = (method: string, path: string, o: ApiOptions): Promise<ApiResponse> =>
    waitFor(`${method} ${path}`, 30_000, async () => {
      const res = await api(method, path, o);
      return [502, 503, 504].includes(res.status) ? undefined : res;
    });

  /** The comments of a post that comments has not deleted, straight from its database. */
  const liveComments = async (postId: number): Promise<number> => {
    const client = new Client({ connectionString: `${PG_URL}/mpb_comments${DB_SUFFIX}` });
    await client.connect();
    try {
      const r = await client.query(
        'SELECT count(*)::int AS n FROM comments WHERE post_id = $1 AND deleted_at IS NULL',
        [postId],
      );
      return r.rows[0].n as number;
    } finally {
      await client.end();
    }
  };

  it('still cascades a post deletion to its comments within seconds', async () => {
    const author = await newUser();
    const reader = await newUser();
    const create = async (title: string) => {
      const res = await settled('POST', '/api/posts', {
        token: author.token,
        body: { title, description: 'A description long enough.', tag: uniq('burst-') },
      });
      expect(`${res.status} ${res.status === 201 ? '' : res.text}`).toBe('201 ');
      return res.body.id as number;
    };
    const victim = await create('Victim');
    for (let i = 0; i < 3; i += 1) {
      const c = await settled('POST', `/api/posts/${victim}/comments`, {
        token: reader.token,
        body: { text: `comment ${i}` },
      });
      expect(c.status).toBe(201);
    }

    // 60 concurrent edits of six posts, each a distinct 20 000-character CJK description.
    const edited = await Promise.all(Array.from({ length: 6 }, (_, i) => create(`Long ${i}`)));
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        api('PUT', `/api/posts/${edited[i % edited.length]}`, {
          token: author.token,
          body: { description: `${'漢'.repeat(19_990)}${String(i).padStart(10, '0')}` },
        }),
      ),
    );
    // On a loaded machine some of 60 writes may wait past the pool's or the gateway's bounds: a clear
    // 503/504, never a 500 or a hang. The others go through, and with them their events.
    expect(results.filter((r) => ![200, 503, 504].includes(r.status)).map((r) => r.text)).toEqual([]);
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThan(0);

    expect(await liveComments(victim)).toBe(3);
    const deleted = await settled('DELETE', `/api/posts/${victim}`, { token: author.token });
    expect([204, 404]).toContain(deleted.status); // 404: a first try deleted it before timing out
    // Reads hide a deleted post's comments at once (deleted-content.test.ts), so the cascade itself is
    // watched where it lands: the comments' rows, soft-deleted by comments' consumer of post.deleted.
    const started = Date.now();
    await waitFor('the comments of the deleted post to go', 10_000, async () =>
      (await liveComments(victim)) === 0 ? true : undefined,
    );
    expect(Date.now() - started).toBeLessThan(10_000);

    // Nothing was parked or left behind: posts reports its outbox healthy, not merely serving.
    const ready = await waitFor('posts to report its outbox drained', 10_000, async () => {
      const res = await fetch(`${serviceUrl('posts')}/readyz`);
      const body = (await res.json()) as { status: string; checks: Record<string, string> };
      return body.checks.outbox === 'ok' ? body : undefined;
    });
    expect(ready.checks.kafka).toBe('ok');
  });
});
