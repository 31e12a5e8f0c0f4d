import { compileRoutes, ROUTES } from './routes';

describe('routing table', () => {
  const table = compileRoutes(ROUTES);

  it.each([
    ['/api/auth/login', 'auth-login', 'auth'],
    ['/api/auth/login/', 'auth-login', 'auth'],
    ['/API/Auth/Login', 'auth-login', 'auth'],
    ['/api/auth/register', 'auth-register', 'auth'],
    ['/api/auth/refresh', 'auth-refresh', 'auth'],
    ['/api/auth/logout', 'auth', 'auth'],
    ['/api/auth', 'auth', 'auth'],
    ['/api/users', 'users', 'auth'],
    ['/api/users/7', 'users', 'auth'],
    ['/api/posts', 'posts', 'posts'],
    ['/api/posts/12', 'posts', 'posts'],
    ['/api/posts/12/comments', 'post-comments', 'comments'],
    ['/api/posts/12/COMMENTS', 'post-comments', 'comments'],
    ['/api/comments', 'comments', 'comments'],
    ['/api/comments/3', 'comments', 'comments'],
    ['/api/posts/12/like', 'post-likes', 'metrics'],
    ['/api/posts/12/unlike', 'post-likes', 'metrics'],
    ['/api/posts/12/likes', 'posts', 'posts'],
    ['/api/posts/12/attachments', 'post-attachments', 'attachments'],
    ['/api/posts/12/Attachments/', 'post-attachments', 'attachments'],
    ['/api/posts/attachments/5', 'post-attachment', 'attachments'],
    ['/api/posts/attachments/5/file', 'post-attachment', 'attachments'],
    ['/api/comments/3/attachments', 'comment-attachments', 'attachments'],
    ['/api/comments/attachments/5', 'comment-attachment', 'attachments'],
    ['/api/comments/attachments/5/file', 'comment-attachment', 'attachments'],
    ['/api/posts/12/attachmentsx', 'posts', 'posts'],
    ['/api/comments/3/attachmentsx', 'comments', 'comments'],
    ['/api/posts/attachmentsx', 'posts', 'posts'],
  ])('sends %s to row %s of %s', (path, name, upstream) => {
    expect(table.match(path)).toMatchObject({ name, upstream });
  });

  it.each(['/api/usersx', '/api/authx/login', '/api', '/', '/api/postsx', '/api/commentsx', '/health'])(
    'has no row for %s',
    (path) => {
      expect(table.match(path)).toBeUndefined();
    },
  );

  it('rate-limits and exempts from early token checks exactly sign-in, sign-up and refresh', () => {
    expect(table.match('/api/auth/login')).toMatchObject({ verifyToken: false, rateLimit: 'auth' });
    expect(table.match('/api/auth/register')).toMatchObject({ verifyToken: false, rateLimit: 'auth' });
    expect(table.match('/api/auth/refresh')).toMatchObject({ verifyToken: false });
    expect(table.match('/api/auth/refresh')?.rateLimit).toBeUndefined();
    expect(table.match('/api/auth/me')).toMatchObject({ verifyToken: true });
    expect(table.match('/api/users/1')).toMatchObject({ verifyToken: true, bodyLimit: 'small' });
  });

  it('lists only the upstreams some row uses', () => {
    expect(table.upstreams().sort()).toEqual(['attachments', 'auth', 'comments', 'metrics', 'posts']);
  });

  it('gives uploads the upload limit, posts the default and every other JSON row the small one', () => {
    expect(table.match('/api/posts/1/attachments')?.bodyLimit).toBe('upload');
    expect(table.match('/api/comments/1/attachments')?.bodyLimit).toBe('upload');
    expect(table.match('/api/posts')?.bodyLimit).toBe('default');
    expect(table.match('/api/posts/1')?.bodyLimit).toBe('default');
    for (const p of [
      '/api/auth/login',
      '/api/auth/register',
      '/api/auth/refresh',
      '/api/auth/logout',
      '/api/users/1',
      '/api/posts/attachments/1',
      '/api/comments/attachments/1',
      '/api/posts/1/comments',
      '/api/posts/1/like',
      '/api/comments',
      '/api/comments/1',
    ])
      expect({ p, limit: table.match(p)?.bodyLimit }).toEqual({ p, limit: 'small' });
  });

  it('takes patterns, first match first', () => {
    const t = compileRoutes([
      { name: 'post-comments', path: /^\/api\/posts\/[^/]+\/comments(\/|$)/, upstream: 'comments' },
      { name: 'posts', path: '/api/posts', upstream: 'posts' },
    ]);
    expect(t.match('/api/posts/5/comments')?.upstream).toBe('comments');
    expect(t.match('/api/posts/5')?.upstream).toBe('posts');
  });

  it('refuses a table it could not route reliably', () => {
    expect(() => compileRoutes([{ name: 'x', path: /^\/x/g, upstream: 'auth' }])).toThrow(/flag/);
    expect(() =>
      compileRoutes([
        { name: 'x', path: '/x', upstream: 'auth' },
        { name: 'x', path: '/y', upstream: 'auth' },
      ]),
    ).toThrow(/duplicate/);
  });
});
