import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { faultWorld, underLoad } from './scenario';
import { api, control, db, eventually, readTopic, setUpPost } from './support';
import { badOutcomes, report, verifyConsistency } from './verify';

/** Preloaded into posts for one run: it exits at the failpoint, after publishing and before marking. */
const FAILPOINT = pathToFileURL(path.join(__dirname, 'harness', 'outbox-failpoint.mjs')).href;
/** The exit code harness/outbox-failpoint.mjs ends the process with. */
const FAILPOINT_EXIT_CODE = 86;

describe('fault: the outbox relay is killed between publishing and marking published', () => {
  const world = faultWorld();

  it('publishes post.deleted again after restart, and its effects are applied exactly once', async () => {
    // A post with comments, likes and views, all folded before the fault.
    const doomed = await setUpPost(world().author, 'Doomed post');
    const commentIds: number[] = [];
    for (const u of world().vus.slice(0, 3)) {
      const c = await api('POST', '/api/comments', {
        token: u.token,
        body: { post_id: doomed, text: 'soon gone' },
      });
      expect(c.status).toBe(201);
      commentIds.push(c.body.id as number);
    }
    for (const u of world().vus.slice(0, 2))
      expect((await api('POST', `/api/posts/${doomed}/like`, { token: u.token })).status).toBe(200);
    expect((await api('GET', `/api/posts/${doomed}`)).status).toBe(200);
    const folded = await eventually(
      async () =>
        (await db('metrics')('post_counters').where({ post_id: doomed, likes: 2, views: 1 })).length === 1,
      20000,
    );
    expect(folded).toBe(true);

    const outboxRow = () =>
      db('posts')('outbox')
        .where({ type: 'post.deleted', key: String(doomed) })
        .first('id', 'published_at');
    let exit: Record<string, unknown> = {};
    let beforeRestart: { id: string; published_at: Date | null } | undefined;
    // The load creates no posts here, so the relay's first publish after the restart is the deletion.
    const r = await underLoad(
      world(),
      async () => {
        const from = Date.now();
        await control('POST /service/kill', { name: 'posts', signal: 'SIGTERM' });
        await control('POST /service/start', {
          name: 'posts',
          env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import "${FAILPOINT}"`.trim() },
        });
        const del = await api('DELETE', `/api/posts/${doomed}`, { token: world().author.token });
        expect(del.status).toBe(204);
        exit = await control('POST /service/wait-exit', { name: 'posts', timeoutMs: 20000 });
        beforeRestart = await outboxRow();
        await control('POST /service/start', { name: 'posts' });
        return [{ from, to: Date.now(), service: 'posts' }];
      },
      { withoutCreate: true },
    );
    report('outbox-relay', r.load.outcomes, { recoveredMs: r.recoveredMs, exit });

    // The process stopped at the failpoint: published, not marked.
    expect(exit.exitCode).toBe(FAILPOINT_EXIT_CODE);
    expect(beforeRestart?.published_at).toBeNull();
    // Restarted without it: the same event published a second time, then marked.
    expect(await eventually(async () => (await outboxRow())?.published_at instanceof Date, 20000)).toBe(true);
    const copies = (await readTopic('blog.posts.v1')).filter(
      (e) => e.type === 'post.deleted' && e.aggregate_id === String(doomed),
    );
    expect(copies.map((e) => e.id)).toEqual([beforeRestart!.id, beforeRestart!.id]);

    // Effects once: each comment deleted once (one comment.deleted each, not two), counters dropped.
    // Reads hide a deleted post's comments at once, so the cascade is watched in comments' own rows.
    expect(
      await eventually(
        async () =>
          (await db('comments')('comments').where({ post_id: doomed }).whereNull('deleted_at')).length === 0,
        20000,
      ),
    ).toBe(true);
    const deletedEvents: Array<{ key: string; n: string }> = await db('comments')('outbox')
      .select('key')
      .count('* as n')
      .where('type', 'comment.deleted')
      .whereIn('key', commentIds.map(String))
      .groupBy('key');
    expect(Object.fromEntries(deletedEvents.map((e) => [e.key, Number(e.n)]))).toEqual(
      Object.fromEntries(commentIds.map((id) => [String(id), 1])),
    );
    expect(
      await eventually(
        async () => (await db('metrics')('deleted_posts').where({ post_id: doomed })).length === 1,
        20000,
      ),
    ).toBe(true);
    expect(await db('metrics')('post_counters').where({ post_id: doomed })).toEqual([]);
    // Liking it is a 404. Right after posts' restart, metrics may still be reconnecting to it and answer a
    // clear 503 ("posts service unavailable"): the first answer that is not one must be the 404.
    let likeDoomed = 0;
    await eventually(async () => {
      likeDoomed = (await api('POST', `/api/posts/${doomed}/like`, { token: world().vus[3]!.token })).status;
      return likeDoomed !== 503;
    }, 10000);
    expect(likeDoomed).toBe(404);

    expect(badOutcomes(r.load.outcomes)).toEqual([]);
    expect(r.freshStatus).toEqual([200, 201]);
    await verifyConsistency(world(), r.load, r.windows);
  }, 120000);
});
