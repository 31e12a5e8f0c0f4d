import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { apiAt, uniq } from './client';

// metrics with VIEW_DEDUP_SECONDS=0 keeps the old API's behaviour: every read of a post counts a view.
// The e2e platform runs the default window, so this file starts a platform of its own.
describe('a platform with VIEW_DEDUP_SECONDS=0, through its gateway', () => {
  let child: ChildProcess | undefined;
  let base: string;
  const logs: string[] = [];

  beforeAll(async () => {
    child = spawn(process.execPath, [path.join(__dirname, 'every-read-platform.mjs')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    child.stderr!.on('data', (c: Buffer) => logs.push(String(c)));
    base = await new Promise<string>((resolve, reject) => {
      let out = '';
      child!.stdout!.on('data', (c: Buffer) => {
        out += String(c);
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve((JSON.parse(line) as { gatewayUrl: string }).gatewayUrl);
      });
      child!.once('exit', (code) => reject(new Error(`platform exited (${code}): ${logs.join('')}`)));
    });
  }, 240_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 60_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 70_000);

  it('counts every read of one anonymous client and of one signed-in user', async () => {
    const username = uniq('every');
    const password = 'secret-pass-1';
    expect(
      (
        await apiAt(base, 'POST', '/api/auth/register', {
          body: { name: 'Every Read', username, email: `${username}@example.com`, password },
        })
      ).status,
    ).toBe(201);
    const { token } = (await apiAt(base, 'POST', '/api/auth/login', { body: { username, password } })).body;
    const created = await apiAt(base, 'POST', '/api/posts', {
      token,
      body: { title: 'Read many times', description: 'Every read of this post counts.' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as number;

    const anonymous = [];
    for (let i = 0; i < 3; i += 1) anonymous.push(await apiAt(base, 'GET', `/api/posts/${id}`));
    expect(anonymous.map((r) => r.body.count_viewers)).toEqual([1, 2, 3]);
    expect(anonymous.every((r) => r.headers.get('x-view-recorded') === 'true')).toBe(true);

    const racing = await Promise.all(
      Array.from({ length: 20 }, () => apiAt(base, 'GET', `/api/posts/${id}`, { token })),
    );
    expect(racing.every((r) => r.headers.get('x-view-recorded') === 'true')).toBe(true);
    const list = await apiAt(base, 'GET', `/api/posts?limit=100`);
    expect(list.body.find((p: { id: number }) => p.id === id)?.count_viewers).toBe(23);
  });
});
