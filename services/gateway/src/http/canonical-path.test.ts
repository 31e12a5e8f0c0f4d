import { canonicalTarget, MALFORMED_PATH, MAX_PATH_LENGTH, PATH_TOO_LONG } from './canonical-path';

describe('canonicalTarget', () => {
  it.each([
    ['/api/auth/login', '/api/auth/login'],
    ['/api/auth/login/', '/api/auth/login'],
    ['/API/Auth/Login', '/api/auth/login'],
    ['/api/posts?tag=A%2FB&page=2', '/api/posts?tag=A%2FB&page=2'],
    ['/api/posts/?Tag=X', '/api/posts?Tag=X'],
    ['/api/posts/%E4%B8%AD', '/api/posts/%e4%b8%ad'],
    ['http://gateway.example/api/auth/login', '/api/auth/login'],
    ['HTTPS://gateway.example:8443/api/auth/login?x=1', '/api/auth/login?x=1'],
    ['http://gateway.example', '/'],
    ['http://gateway.example?x', '/?x'],
    ['/', '/'],
  ])('%s becomes %s', (raw, url) => {
    expect(canonicalTarget(raw)).toEqual({ ok: true, url });
  });

  it.each([
    '/api/auth//login',
    '//api/auth/login',
    '/api/auth/login//',
    '/api/auth/\\login',
    '/api\\auth\\login',
    '/api/auth%2flogin',
    '/api/auth%2Flogin',
    '/api/auth%5clogin',
    '/api/auth/%2e/login',
    '/api/auth/%2E%2E/auth/login',
    '/api/auth/%6cogin',
    '/api/auth/login%00',
    '/api/auth/login%20',
    '/api/auth/./login',
    '/api/x/../auth/login',
    '/api/auth/login/.',
    '/api/auth/login/..',
    '/api/auth/login;jsessionid=1',
    '/api/auth;x=1/login',
    '/api/auth/login#frag',
    '/api/auth/login\u0000',
    '/api/auth/login\t',
    '/api/auth/lo gin',
    "/api/posts/1'",
    '/api/posts/http:/x',
    '/api/auth/login%',
    '/api/auth/login%e',
    '/api/auth/login%zz',
    '/api/auth/login?x=\u0001',
    '/api/auth/login?x=1#frag',
    '*',
    'gateway.example:443',
    'ftp://gateway.example/api/auth/login',
    'http://gateway.example\\api/auth/login',
    'http://gateway.example/api//auth/login',
  ])('%j is refused as malformed', (raw) => {
    expect(canonicalTarget(raw)).toEqual({ ok: false, reason: MALFORMED_PATH });
  });

  it('refuses an overlong path, not an overlong query', () => {
    const long = `/api/posts/${'1'.repeat(MAX_PATH_LENGTH)}`;
    expect(canonicalTarget(long)).toEqual({ ok: false, reason: PATH_TOO_LONG });
    expect(canonicalTarget(`/api/posts?tag=${'t'.repeat(MAX_PATH_LENGTH)}`).ok).toBe(true);
  });

  it('is idempotent: a canonical target is its own canonical form', () => {
    for (const raw of ['/API/Posts/', '/api/posts/%E4%B8%AD?Q=%2F', 'http://h/API?x']) {
      const once = canonicalTarget(raw);
      if (!once.ok) throw new Error(raw);
      expect(canonicalTarget(once.url)).toEqual(once);
    }
  });
});
