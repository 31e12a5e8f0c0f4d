import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { unavailable } from '@mpb/errors';
import { createServer } from 'node:http';
import { createTokenVerifier, jwksFromAuth, jwksUrlOf, sessionTokenVerifier, type Jwk } from '../src';

const ISS = 'mpb-auth';
const AUD = 'mpb-api';

function keyPair(kid: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as Jwk), kid, alg: 'ES256', use: 'sig' };
  return { privateKey, publicKey, jwk };
}

const primary = keyPair('k1');

function sign(
  claims: Record<string, unknown>,
  o: { key?: KeyObject; kid?: string; header?: Record<string, unknown> } = {},
) {
  return jwt.sign({ sub: '7', typ: 'access', sid: 's1', ...claims }, o.key ?? primary.privateKey, {
    algorithm: 'ES256',
    keyid: o.kid ?? 'k1',
    issuer: ISS,
    audience: AUD,
    ...('exp' in claims ? {} : { expiresIn: 60 }),
    ...(o.header ? { header: o.header as unknown as jwt.JwtHeader } : {}),
  });
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function verifier(keys: Jwk[] = [primary.jwk], revoked = new Set<string>()) {
  let loads = 0;
  const v = createTokenVerifier({
    loadKeys: async () => {
      loads += 1;
      return keys;
    },
    issuer: ISS,
    audience: AUD,
    minRefetchIntervalMs: 0,
    isSessionRevoked: async (sid) => revoked.has(sid),
  });
  return { v, loads: () => loads };
}

describe('token verifier', () => {
  it('accepts a valid access token and returns the user and session', async () => {
    await expect(verifier().v.verify(sign({}))).resolves.toEqual({ id: 7, sessionId: 's1' });
  });

  const attacks: Array<[string, () => string]> = [
    [
      'alg none',
      () =>
        `${b64({ alg: 'none', typ: 'JWT', kid: 'k1' })}.${b64({ sub: '7', typ: 'access', iss: ISS, aud: AUD, exp: 9e9 })}.`,
    ],
    [
      'HS256 signed with the public key',
      () => {
        const header = b64({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
        const payload = b64({
          sub: '7',
          typ: 'access',
          iss: ISS,
          aud: AUD,
          exp: Math.floor(Date.now() / 1000) + 60,
        });
        const pem = primary.publicKey.export({ type: 'spki', format: 'pem' });
        const sig = createHmac('sha256', pem).update(`${header}.${payload}`).digest('base64url');
        return `${header}.${payload}.${sig}`;
      },
    ],
    [
      'wrong issuer',
      () =>
        jwt.sign({ sub: '7', typ: 'access' }, primary.privateKey, {
          algorithm: 'ES256',
          keyid: 'k1',
          issuer: 'evil',
          audience: AUD,
          expiresIn: 60,
        }),
    ],
    [
      'wrong audience',
      () =>
        jwt.sign({ sub: '7', typ: 'access' }, primary.privateKey, {
          algorithm: 'ES256',
          keyid: 'k1',
          issuer: ISS,
          audience: 'other',
          expiresIn: 60,
        }),
    ],
    ['expired', () => sign({ exp: Math.floor(Date.now() / 1000) - 1 })],
    [
      'missing exp',
      () =>
        jwt.sign({ sub: '7', typ: 'access' }, primary.privateKey, {
          algorithm: 'ES256',
          keyid: 'k1',
          issuer: ISS,
          audience: AUD,
        }),
    ],
    ['not an access token', () => sign({ typ: 'refresh' })],
    ['signed by another key with our kid', () => sign({}, { key: keyPair('k1').privateKey })],
    ['unknown kid', () => sign({}, { kid: 'nope' })],
    ['kid with a path', () => sign({}, { kid: '../../etc/passwd' })],
    ['jku header', () => sign({}, { header: { alg: 'ES256', kid: 'k1', jku: 'http://127.0.0.1:1/keys' } })],
    [
      'tampered payload',
      () => {
        const [h, , s] = sign({}).split('.');
        return `${h}.${b64({ sub: '1', typ: 'access', iss: ISS, aud: AUD, exp: 9e9 })}.${s}`;
      },
    ],
    ['non-numeric subject', () => sign({ sub: 'admin' })],
    ['signed subject', () => sign({ sub: '+7' })],
    ['zero subject', () => sign({ sub: '0' })],
    ['numeric (not string) subject', () => sign({ sub: 7 })],
    ['garbage', () => 'not.a.jwt'],
  ];

  it.each(attacks)('rejects %s', async (_name, token) => {
    await expect(verifier().v.verify(token())).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: 'invalid token',
    });
  });

  it('rejects a token of a revoked session', async () => {
    await expect(verifier([primary.jwk], new Set(['s1'])).v.verify(sign({}))).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('refetches keys on an unknown kid, so a rotated key works without restart', async () => {
    const next = keyPair('k2');
    const keys = [primary.jwk];
    const { v, loads } = verifier(keys);
    await v.verify(sign({}));
    keys.push(next.jwk);
    await expect(v.verify(sign({}, { key: next.privateKey, kid: 'k2' }))).resolves.toMatchObject({ id: 7 });
    expect(loads()).toBe(2);
  });

  it('answers 503, not 401 or 500, when keys or the session check are unavailable', async () => {
    const down = createTokenVerifier({
      loadKeys: async () => Promise.reject(new Error('ECONNREFUSED')),
      issuer: ISS,
      audience: AUD,
    });
    await expect(down.verify(sign({}))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(down.verify(sign({}))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const redisDown = createTokenVerifier({
      loadKeys: async () => [primary.jwk],
      issuer: ISS,
      audience: AUD,
      isSessionRevoked: async () => Promise.reject(new Error('redis timeout')),
    });
    await expect(redisDown.verify(sign({}))).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: 'session check unavailable',
    });
    // A revocation set not loaded yet says so itself (and answers synchronously once loaded).
    const notLoaded = createTokenVerifier({
      loadKeys: async () => [primary.jwk],
      issuer: ISS,
      audience: AUD,
      isSessionRevoked: () => {
        throw unavailable('authentication unavailable, try again later');
      },
    });
    await expect(notLoaded.verify(sign({}))).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: 'authentication unavailable, try again later',
    });
  });

  it('takes a synchronous answer from the revocation set', async () => {
    const revoked = new Set(['s1']);
    const v = createTokenVerifier({
      loadKeys: async () => [primary.jwk],
      issuer: ISS,
      audience: AUD,
      isSessionRevoked: (sid) => revoked.has(sid),
    });
    await expect(v.verify(sign({}))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    revoked.clear();
    await expect(v.verify(sign({}))).resolves.toEqual({ id: 7, sessionId: 's1' });
  });

  it("sessionTokenVerifier checks the config's issuer and audience and auth's revoked sessions", async () => {
    const revoked = new Set<string>();
    const v = sessionTokenVerifier({
      settings: { JWT_ISSUER: ISS, JWT_AUDIENCE: AUD },
      loadKeys: async () => [primary.jwk],
      revocations: { isRevoked: (sid) => revoked.has(sid) },
    });
    await expect(v.verify(sign({}))).resolves.toEqual({ id: 7, sessionId: 's1' });
    revoked.add('s1');
    await expect(v.verify(sign({}))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const otherAudience = sessionTokenVerifier({
      settings: { JWT_ISSUER: ISS, JWT_AUDIENCE: 'another-api' },
      loadKeys: async () => [primary.jwk],
      revocations: { isRevoked: () => false },
    });
    await expect(otherAudience.verify(sign({}))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  describe('fetching the keys', () => {
    /** A JWKS endpoint that serves `keys`, or 503 while `down`, and counts the fetches. */
    async function jwksServer(keys: Jwk[]) {
      const state = { keys, down: false, fetches: 0 };
      const server = createServer((_req, res) => {
        state.fetches += 1;
        if (state.down) {
          res.statusCode = 503;
          res.end();
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: state.keys }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      const close = () => new Promise((resolve) => server.close(resolve));
      return { state, url: `http://127.0.0.1:${port}`, close };
    }

    const servers: Array<{ close(): Promise<unknown> }> = [];
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((s) => s.close()));
    });

    async function fromServer(
      keys: Jwk[],
      o: { minRefetchIntervalMs?: number; keyCacheMaxAgeMs?: number } = {},
    ) {
      const jwks = await jwksServer(keys);
      servers.push(jwks);
      const v = createTokenVerifier({
        loadKeys: jwksFromAuth(jwks.url, 500),
        issuer: ISS,
        audience: AUD,
        verifiedCacheTtlMs: 0,
        ...o,
      });
      return { v, jwks: jwks.state };
    }

    it('refuses a token whose kid auth does not publish, refetching at most the rate limit allows', async () => {
      // 10 s between refetches on average: 6 fetches a minute.
      const { v, jwks } = await fromServer([primary.jwk], { minRefetchIntervalMs: 10_000 });
      await v.verify(sign({}));
      expect(jwks.fetches).toBe(1);
      for (let i = 0; i < 20; i += 1) {
        await expect(v.verify(sign({}, { kid: `unknown-${i}` }))).rejects.toMatchObject({
          code: 'UNAUTHENTICATED',
          message: 'invalid token',
        });
      }
      expect(jwks.fetches).toBe(6);
      // The known key still verifies without a fetch.
      await expect(v.verify(sign({}))).resolves.toMatchObject({ id: 7 });
      expect(jwks.fetches).toBe(6);
    });

    it('picks up a rotated key without restart, one fetch for all the requests waiting for it', async () => {
      const next = keyPair('k2');
      const { v, jwks } = await fromServer([primary.jwk], { minRefetchIntervalMs: 10_000 });
      await v.verify(sign({}));
      jwks.keys = [primary.jwk, next.jwk];
      const token = sign({}, { key: next.privateKey, kid: 'k2' });
      const answers = await Promise.all(Array.from({ length: 10 }, () => v.verify(token)));
      expect(answers).toEqual(Array.from({ length: 10 }, () => ({ id: 7, sessionId: 's1' })));
      expect(jwks.fetches).toBe(2);
      // Tokens of the old key still verify while auth publishes it.
      await expect(v.verify(sign({}))).resolves.toMatchObject({ id: 7 });
      expect(jwks.fetches).toBe(2);
    });

    it('keeps verifying with the keys it has while the JWKS server is down', async () => {
      const { v, jwks } = await fromServer([primary.jwk]);
      await v.verify(sign({}));
      jwks.down = true;
      await expect(v.verify(sign({}))).resolves.toMatchObject({ id: 7 });
      expect(jwks.fetches).toBe(1);
    });

    it('answers 503 while the JWKS server is down, fetching at most the rate limit allows, and recovers', async () => {
      const { v, jwks } = await fromServer([primary.jwk], { minRefetchIntervalMs: 10_000 });
      jwks.down = true;
      for (let i = 0; i < 10; i += 1) {
        await expect(v.verify(sign({}))).rejects.toMatchObject({
          code: 'UNAVAILABLE',
          message: 'authentication keys unavailable',
        });
      }
      expect(jwks.fetches).toBe(6);

      const recovering = await fromServer([primary.jwk], { minRefetchIntervalMs: 0 });
      recovering.jwks.down = true;
      await expect(recovering.v.verify(sign({}))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      recovering.jwks.down = false;
      await expect(recovering.v.verify(sign({}))).resolves.toMatchObject({ id: 7 });
    });

    it('stops accepting a key auth no longer publishes once its cache age has passed', async () => {
      const { v, jwks } = await fromServer([primary.jwk], { minRefetchIntervalMs: 0, keyCacheMaxAgeMs: 50 });
      await v.verify(sign({}));
      jwks.keys = [keyPair('k2').jwk];
      await new Promise((r) => setTimeout(r, 80));
      await expect(v.verify(sign({}))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(jwks.fetches).toBe(2);
    });
  });

  describe('remembering verified tokens', () => {
    function clocked(revoked = new Set<string>()) {
      let time = Date.now();
      const verify = jest.spyOn(jwt, 'verify');
      const v = createTokenVerifier({
        loadKeys: async () => [primary.jwk],
        issuer: ISS,
        audience: AUD,
        isSessionRevoked: async (sid) => revoked.has(sid),
        verifiedCacheTtlMs: 30_000,
        clock: () => time,
      });
      return { v, verify, advance: (ms: number) => (time += ms) };
    }

    afterEach(() => jest.restoreAllMocks());

    it('checks the signature of a token once, the revoked session on every request', async () => {
      const revoked = new Set<string>();
      const { v, verify } = clocked(revoked);
      const token = sign({});
      await v.verify(token);
      await expect(v.verify(token)).resolves.toEqual({ id: 7, sessionId: 's1' });
      expect(verify).toHaveBeenCalledTimes(1);
      // Logged out a moment later: the remembered token is refused at once.
      revoked.add('s1');
      await expect(v.verify(token)).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
        message: 'invalid token',
      });
    });

    it('checks a remembered token again after the TTL, and refuses it once it has expired', async () => {
      const { v, verify, advance } = clocked();
      const token = sign({ exp: Math.floor(Date.now() / 1000) + 45 });
      await v.verify(token);
      advance(31_000);
      await v.verify(token);
      expect(verify).toHaveBeenCalledTimes(2);
      advance(15_000);
      await expect(v.verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    });

    it('never remembers a refused token', async () => {
      const { v, verify } = clocked();
      const forged = `${sign({}).slice(0, -4)}AAAA`;
      await expect(v.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      await expect(v.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(verify).toHaveBeenCalledTimes(2);
    });
  });
});

describe("where auth's keys are", () => {
  it('is AUTH_URL without trailing slashes, keeping a path prefix, plus JWKS_PATH', () => {
    expect(jwksUrlOf('http://127.0.0.1:3001')).toBe('http://127.0.0.1:3001/.well-known/jwks.json');
    expect(jwksUrlOf('http://auth:3001/')).toBe('http://auth:3001/.well-known/jwks.json');
    expect(jwksUrlOf('https://auth.internal/prefix//')).toBe(
      'https://auth.internal/prefix/.well-known/jwks.json',
    );
  });

  it('fetches them from there', async () => {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [primary.jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      await expect(jwksFromAuth(`http://127.0.0.1:${port}/auth/`)()).resolves.toEqual([primary.jwk]);
      expect(paths).toEqual(['/auth/.well-known/jwks.json']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("reads the token's subject by the platform's id rule", async () => {
    await expect(verifier().v.verify(sign({ sub: '007' }))).resolves.toMatchObject({ id: 7 });
  });
});
