import type { Post } from './post';
import { LivePostCache } from './live-post-cache';

const post = (id: number, description = 'A description.'): Post => ({
  id,
  userId: 1,
  title: `Post ${id}`,
  description,
  tag: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  deletedAt: null,
});

function setup(o: { ttlMs?: number; maxEntries?: number; maxDescriptionLength?: number } = {}) {
  let time = 1_000_000;
  const loads: number[] = [];
  const cache = new LivePostCache({ ttlMs: 1000, ...o, clock: () => time });
  const load = async (id: number) => {
    loads.push(id);
    return id === 404 ? undefined : post(id);
  };
  return { cache, load, loads, advance: (ms: number) => (time += ms) };
}

describe('LivePostCache', () => {
  it('answers reads within the TTL without the store, then reads it again', async () => {
    const { cache, load, loads, advance } = setup();
    await cache.get(1, load);
    await expect(cache.get(1, load)).resolves.toMatchObject({ id: 1 });
    expect(loads).toEqual([1]);
    advance(1001);
    await cache.get(1, load);
    expect(loads).toEqual([1, 1]);
  });

  it('never remembers a missing post, so a new post is found at once', async () => {
    const { cache, load, loads } = setup();
    await expect(cache.get(404, load)).resolves.toBeUndefined();
    await cache.get(404, load);
    expect(loads).toEqual([404, 404]);
  });

  it('forgets a post when told, and drops a read that raced the change', async () => {
    const { cache, load, loads } = setup();
    await cache.get(1, load);
    cache.forget(1);
    await cache.get(1, load);
    expect(loads).toEqual([1, 1]);

    // A read that started before a change must not store the row it read.
    let release!: () => void;
    const slow = (id: number) =>
      new Promise<Post>((resolve) => {
        release = () => resolve(post(id, 'Before the change.'));
      });
    cache.forget(2);
    const racing = cache.get(2, slow);
    cache.forget(2);
    release();
    await racing;
    await expect(cache.get(2, load)).resolves.toMatchObject({ description: 'A description.' });
  });

  it('is bounded in entries and in description size, and off with a TTL of 0', async () => {
    const bounded = setup({ maxEntries: 2 });
    for (const id of [1, 2, 3]) await bounded.cache.get(id, bounded.load);
    expect(bounded.cache.size).toBe(2);
    await bounded.cache.get(1, bounded.load);
    expect(bounded.loads).toEqual([1, 2, 3, 1]);

    const small = setup({ maxDescriptionLength: 5 });
    await small.cache.get(1, small.load);
    expect(small.cache.size).toBe(0);

    const off = setup({ ttlMs: 0 });
    await off.cache.get(1, off.load);
    await off.cache.get(1, off.load);
    expect(off.loads).toEqual([1, 1]);
  });
});
