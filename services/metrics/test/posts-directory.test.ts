import { createPostDirectory, type GrpcPostDirectory } from '../src/grpc/posts-directory';
import { PostsStandIn } from './helpers/posts-stand-in';

let posts: PostsStandIn;
const directories: GrpcPostDirectory[] = [];

beforeAll(async () => {
  posts = await new PostsStandIn().start();
});

afterAll(async () => {
  for (const d of directories) d.close();
  await posts.stop();
});

beforeEach(() => {
  posts.calls.length = 0;
});

const directory = (cacheTtlMs: number, cacheSize?: number) => {
  const d = createPostDirectory({ address: posts.address, deadlineMs: 2000, cacheTtlMs, cacheSize });
  directories.push(d);
  return d;
};

describe('the posts directory metrics asks before a like', () => {
  it('remembers a live post for its TTL, then asks again', async () => {
    posts.create(101);
    const d = directory(150);
    await d.assertLive(101);
    await d.assertLive(101);
    expect(posts.calls).toEqual([101]);
    await new Promise((r) => setTimeout(r, 200));
    await d.assertLive(101);
    expect(posts.calls).toEqual([101, 101]);
  });

  it('never remembers a missing or deleted post', async () => {
    posts.create(102);
    posts.delete(102);
    const d = directory(60_000);
    await expect(d.assertLive(102)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(d.assertLive(103)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    posts.create(103);
    await expect(d.assertLive(103)).resolves.toBeUndefined();
    expect(posts.calls).toEqual([102, 103, 103]);
  });

  it('asks again after forget, and shares one call among concurrent questions', async () => {
    posts.create(104);
    const d = directory(60_000);
    await Promise.all([d.assertLive(104), d.assertLive(104), d.assertLive(104)]);
    expect(posts.calls).toEqual([104]);
    d.forget(104);
    posts.delete(104);
    await expect(d.assertLive(104)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('asks every time with a TTL of 0, and keeps at most cacheSize posts', async () => {
    posts.create(105, 106, 107);
    const never = directory(0);
    await never.assertLive(105);
    await never.assertLive(105);
    expect(posts.calls).toEqual([105, 105]);
    posts.calls.length = 0;
    const small = directory(60_000, 2);
    for (const id of [105, 106, 107, 105]) await small.assertLive(id);
    expect(posts.calls).toEqual([105, 106, 107, 105]);
  });
});
