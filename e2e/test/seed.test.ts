import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { api, gatewayUrl, uniq } from './client';

const run = promisify(execFile);
const SEED = path.resolve(__dirname, '../../infra/seed/seed.mjs');

/** A port nothing listens on: fetch refuses low "bad ports" such as 1 before trying them. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface SeedResult {
  created: Record<string, number>;
  existing: Record<string, number>;
}

async function seed(prefix: string): Promise<SeedResult> {
  const { stdout } = await run(process.execPath, [SEED, '--base-url', gatewayUrl(), '--prefix', prefix], {
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('npm run seed', () => {
  // Each run gets its own user names, so the e2e databases kept between runs do not matter.
  const prefix = `${uniq('s')}_`;
  let first: SeedResult;
  let second: SeedResult;

  beforeAll(async () => {
    first = await seed(prefix);
    second = await seed(prefix);
  }, 120_000);

  // The e2e platform runs metrics with the default VIEW_DEDUP_SECONDS: each post's views are topped
  // up by five readers (anonymous and the four demo users), one view each: targets 42, 17, 9, 25, 3.
  it('creates users, posts, comments, likes, views and attachments through the public API', () => {
    expect(first.created).toEqual({ users: 4, posts: 5, comments: 7, likes: 7, views: 23, attachments: 2 });
  });

  it('is idempotent: a second run finds everything and creates nothing', () => {
    expect(second.created).toEqual({ users: 0, posts: 0, comments: 0, likes: 0, views: 0, attachments: 0 });
    expect(second.existing).toEqual({ users: 4, posts: 5, comments: 7, likes: 7, attachments: 2 });
  });

  it('leaves data the API serves: tagged posts with their comments, likes, views and files', async () => {
    const login = await api('POST', '/api/auth/login', {
      body: { username: `${prefix}ann`, password: 'demo-password-1' },
    });
    expect(login.status).toBe(200);
    const posts = await api('GET', `/api/posts?user_id=${login.body.user.id}`);
    const envelope = posts.body.find(
      (p: { title: string }) => p.title === 'Designing a Kafka event envelope',
    );
    expect(envelope).toMatchObject({ tag: 'architecture', like: 3 });
    // The list shows counts without counting a view; the target was 42, five readers each counted once.
    expect(envelope.count_viewers).toBe(5);
    const comments = await api('GET', `/api/posts/${envelope.id}/comments`);
    expect(comments.body).toHaveLength(3);
    const files = await api('GET', `/api/posts/${envelope.id}/attachments`);
    expect(files.body).toEqual([
      expect.objectContaining({ file_name: 'envelope.txt', file_type: 'text/plain' }),
    ]);
  });

  it('fails with a clear message when nothing answers at the base URL', async () => {
    const closed = await closedPort();
    const failed = run(process.execPath, [SEED, '--base-url', `http://127.0.0.1:${closed}`], {
      timeout: 30_000,
    });
    await expect(failed).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('is the platform running?'),
    });
  });
});
