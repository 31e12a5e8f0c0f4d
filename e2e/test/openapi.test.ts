import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { api, newUser, uniq, type ApiOptions, type ApiResponse, type TestUser } from './client';
import { ApiContract, type OpenApiDocument } from './openapi-contract';

/**
 * Every response in this file, success or error, is checked against the OpenAPI document the
 * gateway serves at /api/openapi.json: status, content type and body schema.
 */

const DOCUMENT_FILE = path.resolve(__dirname, '../../services/gateway/openapi/openapi.json');
let contract: ApiContract;

async function call(method: string, urlPath: string, o: ApiOptions = {}): Promise<ApiResponse> {
  const res = await api(method, urlPath, o);
  contract.check(method, urlPath, res);
  return res;
}

/** Calls and checks, then insists on the status the scenario expects. */
async function expectStatus(status: number, method: string, urlPath: string, o: ApiOptions = {}) {
  const res = await call(method, urlPath, o);
  if (res.status !== status)
    throw new Error(`${method} ${urlPath}: expected ${status}, got ${res.status} ${res.text}`);
  return res;
}

const MISSING_ID = 2_000_000_000;
/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const BOUNDARY = 'mpb-openapi-boundary';

/** A multipart/form-data body with each file in the field `files`. */
function multipart(files: Array<[string, Buffer]>): { body: Buffer; contentType: string } {
  const parts = files.flatMap(([name, bytes]) => [
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="${name}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    bytes,
    Buffer.from('\r\n'),
  ]);
  return {
    body: Buffer.concat([...parts, Buffer.from(`--${BOUNDARY}--\r\n`)]),
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
  };
}

/**
 * The document against the official OpenAPI 3.1 schema, with its $refs resolved. The validator is
 * an ES module, which jest's CommonJS runtime cannot load, so a plain node process runs it.
 */
function validateOpenApi(text: string): unknown {
  const script = [
    'const { Validator } = await import("@seriousme/openapi-schema-validator");',
    'let text = "";',
    'for await (const chunk of process.stdin) text += chunk;',
    'const validator = new Validator();',
    'const result = await validator.validate(JSON.parse(text));',
    'process.stdout.write(JSON.stringify({ ...result, version: validator.version }));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: path.resolve(__dirname, '..'),
    input: text,
    timeout: 20_000,
  });
  return JSON.parse(out.toString());
}

beforeAll(async () => {
  const res = await api('GET', '/api/openapi.json');
  expect(res.status).toBe(200);
  contract = new ApiContract(res.body as OpenApiDocument);
});

describe('GET /api/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document, the one the gateway ships', async () => {
    const res = await call('GET', '/api/openapi.json');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(res.body.openapi).toBe('3.1.0');
    const result = validateOpenApi(res.text);
    expect(result).toEqual({ valid: true, version: '3.1' });
    expect(res.body).toEqual(JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8')));
  });

  it('tags every operation with a declared tag, uses every tag, and names each operation once', () => {
    const doc = contract.document;
    const declared = (doc.tags ?? []).map((t) => t.name);
    const used = new Set<string>();
    const ids: string[] = [];
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const { tags = [], operationId } = op as { tags?: string[]; operationId?: string };
        expect({ op: `${method} ${p}`, tags: tags.length }).toEqual({ op: `${method} ${p}`, tags: 1 });
        for (const t of tags) {
          expect(declared).toContain(t);
          used.add(t);
        }
        ids.push(String(operationId));
      }
    }
    expect([...used].sort()).toEqual([...declared].sort());
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('responses through the gateway match the document', () => {
  let ann: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    [ann, bob] = await Promise.all([newUser({ age: 30 }), newUser()]);
  });

  it('auth: register, login, me, refresh, users, jwks, logout and their errors', async () => {
    const username = uniq('oa_');
    const password = 'secret-pass';
    const register = { name: 'Open Api', username, email: `${username}@example.test`, password };
    await expectStatus(201, 'POST', '/api/auth/register', { body: register });
    await expectStatus(409, 'POST', '/api/auth/register', { body: register });
    const invalid = await expectStatus(400, 'POST', '/api/auth/register', {
      body: { ...register, email: 'nope' },
    });
    expect(invalid.body.code).toBe('VALIDATION_FAILED');
    await expectStatus(400, 'POST', '/api/auth/register', {
      raw: '{"name":',
      headers: { 'content-type': 'application/json' },
    });

    const login = await expectStatus(200, 'POST', '/api/auth/login', { body: { username, password } });
    await expectStatus(401, 'POST', '/api/auth/login', { body: { username, password: 'wrong-pass' } });
    await expectStatus(400, 'POST', '/api/auth/login', { body: { username } });
    const token = login.body.token as string;

    const me = await expectStatus(200, 'GET', '/api/auth/me', { token });
    expect(me.body.username).toBe(username);
    await expectStatus(401, 'GET', '/api/auth/me');
    await expectStatus(401, 'GET', '/api/auth/me', { headers: { authorization: 'Basic abc' } });

    const refreshed = await expectStatus(200, 'POST', '/api/auth/refresh', {
      body: { refresh_token: login.body.refresh_token },
    });
    await expectStatus(401, 'POST', '/api/auth/refresh', { body: { refresh_token: 'not-a-token' } });
    await expectStatus(400, 'POST', '/api/auth/refresh', { body: {} });

    await expectStatus(200, 'GET', `/api/users/${me.body.id}`);
    await expectStatus(400, 'GET', '/api/users/abc');
    await expectStatus(404, 'GET', `/api/users/${MISSING_ID}`);
    await expectStatus(401, 'GET', `/api/users/${me.body.id}`, { token: 'not.a.jwt' });

    const jwks = await expectStatus(200, 'GET', '/api/auth/jwks');
    expect(jwks.body.keys.length).toBeGreaterThan(0);

    await expectStatus(204, 'POST', '/api/auth/logout', { token: refreshed.body.access_token });
    await expectStatus(401, 'POST', '/api/auth/logout');
  });

  it('posts: create, read, list, update, delete and their errors', async () => {
    const tag = uniq('t');
    const created = await expectStatus(201, 'POST', '/api/posts', {
      token: ann.token,
      body: { title: 'An OpenAPI post', description: 'Checked against the document.', tag },
    });
    const id = created.body.id as number;
    await expectStatus(201, 'POST', '/api/posts', {
      token: ann.token,
      body: { title: 'Untagged post', description: 'A post without any tag.' },
    });
    await expectStatus(400, 'POST', '/api/posts', {
      token: ann.token,
      body: { title: 'x', description: 'short' },
    });
    await expectStatus(401, 'POST', '/api/posts', {
      body: { title: 'No token here', description: 'Refused early.' },
    });
    await expectStatus(413, 'POST', '/api/posts', {
      token: ann.token,
      body: { title: 'Too large', description: 'x'.repeat(300 * 1024) },
    });

    await expectStatus(200, 'GET', `/api/posts/${id}`);
    await expectStatus(200, 'GET', `/api/posts/${id}`, { token: bob.token });
    await expectStatus(400, 'GET', '/api/posts/abc');
    await expectStatus(404, 'GET', `/api/posts/${MISSING_ID}`);

    const list = await expectStatus(200, 'GET', `/api/posts?tag=${tag}&user_id=${ann.id}&page=1&limit=5`);
    expect(list.body.map((p: { id: number }) => p.id)).toEqual([id]);
    expect(list.headers.get('x-total-count')).toBe('1');
    await expectStatus(200, 'GET', '/api/posts?limit=2');
    await expectStatus(400, 'GET', '/api/posts?page=0');
    await expectStatus(400, 'GET', '/api/posts?user_id=abc');

    await expectStatus(200, 'PUT', `/api/posts/${id}`, {
      token: ann.token,
      body: { title: 'A changed title', tag: '' },
    });
    await expectStatus(400, 'PUT', `/api/posts/${id}`, { token: ann.token, body: { title: '   ' } });
    await expectStatus(403, 'PUT', `/api/posts/${id}`, { token: bob.token, body: { title: 'Not mine' } });
    await expectStatus(401, 'PUT', `/api/posts/${id}`, { body: { title: 'No token' } });
    await expectStatus(404, 'PUT', `/api/posts/${MISSING_ID}`, {
      token: ann.token,
      body: { title: 'Nowhere' },
    });
    await expectStatus(403, 'DELETE', `/api/posts/${id}`, { token: bob.token });
    await expectStatus(204, 'DELETE', `/api/posts/${id}`, { token: ann.token });
    await expectStatus(404, 'DELETE', `/api/posts/${id}`, { token: ann.token });
    await expectStatus(404, 'GET', `/api/posts/${id}`);
  });

  it('comments: both create routes, both lists, read, update, delete and their errors', async () => {
    const post = await expectStatus(201, 'POST', '/api/posts', {
      token: ann.token,
      body: { title: 'A post to discuss', description: 'Comments go under it.' },
    });
    const postId = post.body.id as number;

    const first = await expectStatus(201, 'POST', '/api/comments', {
      token: bob.token,
      body: { post_id: postId, text: 'first comment' },
    });
    await expectStatus(201, 'POST', `/api/posts/${postId}/comments`, {
      token: ann.token,
      body: { text: 'second' },
    });
    await expectStatus(404, 'POST', '/api/comments', {
      token: bob.token,
      body: { post_id: MISSING_ID, text: 'lost' },
    });
    await expectStatus(404, 'POST', `/api/posts/${MISSING_ID}/comments`, {
      token: bob.token,
      body: { text: 'lost' },
    });
    await expectStatus(400, 'POST', '/api/comments', {
      token: bob.token,
      body: { post_id: '5', text: 'string id' },
    });
    await expectStatus(400, 'POST', `/api/posts/${postId}/comments`, {
      token: bob.token,
      body: { text: '  ' },
    });
    await expectStatus(401, 'POST', `/api/posts/${postId}/comments`, { body: { text: 'anonymous' } });

    const byQuery = await expectStatus(200, 'GET', `/api/comments?post_id=${postId}&limit=10`);
    expect(byQuery.body).toHaveLength(2);
    await expectStatus(200, 'GET', `/api/posts/${postId}/comments?page=1`);
    await expectStatus(200, 'GET', `/api/posts/${MISSING_ID}/comments`);
    await expectStatus(400, 'GET', '/api/comments');
    await expectStatus(400, 'GET', `/api/posts/abc/comments`);

    const commentId = first.body.id as number;
    await expectStatus(200, 'GET', `/api/comments/${commentId}`);
    await expectStatus(400, 'GET', '/api/comments/abc');
    await expectStatus(404, 'GET', `/api/comments/${MISSING_ID}`);
    await expectStatus(200, 'PUT', `/api/comments/${commentId}`, {
      token: bob.token,
      body: { text: 'edited' },
    });
    await expectStatus(403, 'PUT', `/api/comments/${commentId}`, {
      token: ann.token,
      body: { text: 'not mine' },
    });
    await expectStatus(404, 'PUT', `/api/comments/${MISSING_ID}`, {
      token: bob.token,
      body: { text: 'nowhere' },
    });
    await expectStatus(403, 'DELETE', `/api/comments/${commentId}`, { token: ann.token });
    await expectStatus(401, 'DELETE', `/api/comments/${commentId}`);
    await expectStatus(204, 'DELETE', `/api/comments/${commentId}`, { token: bob.token });
    await expectStatus(404, 'DELETE', `/api/comments/${commentId}`, { token: bob.token });
  });

  it('likes: like, liked-state, both unlike routes and their errors', async () => {
    const post = await expectStatus(201, 'POST', '/api/posts', {
      token: ann.token,
      body: { title: 'A post to like', description: 'Likes are counted in metrics.' },
    });
    const id = post.body.id as number;

    const liked = await expectStatus(200, 'POST', `/api/posts/${id}/like`, { token: bob.token });
    expect(liked.body).toEqual({ post_id: id, likes: 1, message: 'Post liked successfully' });
    await expectStatus(400, 'POST', `/api/posts/${id}/like`, { token: bob.token });
    const state = await expectStatus(200, 'GET', `/api/posts/${id}/like`, { token: bob.token });
    expect(state.body).toEqual({ post_id: id, likes: 1, liked: true });
    await expectStatus(200, 'DELETE', `/api/posts/${id}/like`, { token: bob.token });
    await expectStatus(400, 'DELETE', `/api/posts/${id}/unlike`, { token: bob.token });
    await expectStatus(200, 'POST', `/api/posts/${id}/like`, { token: ann.token });
    await expectStatus(200, 'DELETE', `/api/posts/${id}/unlike`, { token: ann.token });

    await expectStatus(401, 'POST', `/api/posts/${id}/like`);
    await expectStatus(401, 'GET', `/api/posts/${id}/like`);
    await expectStatus(400, 'POST', '/api/posts/abc/like', { token: bob.token });
    await expectStatus(404, 'POST', `/api/posts/${MISSING_ID}/like`, { token: bob.token });
    await expectStatus(404, 'GET', `/api/posts/${MISSING_ID}/like`, { token: bob.token });
    await expectStatus(404, 'DELETE', `/api/posts/${MISSING_ID}/unlike`, { token: bob.token });
  });

  it('attachments: upload, list, read, download, delete, for posts and comments, and their errors', async () => {
    const post = await expectStatus(201, 'POST', '/api/posts', {
      token: ann.token,
      body: { title: 'A post with files', description: 'Attachments hang under it.' },
    });
    const comment = await expectStatus(201, 'POST', `/api/posts/${post.body.id}/comments`, {
      token: ann.token,
      body: { text: 'a comment with a file' },
    });
    for (const [kind, parentId] of [
      ['posts', post.body.id],
      ['comments', comment.body.id],
    ] as const) {
      const upload = (token: string | undefined, files: Array<[string, Buffer]>) => {
        const form = multipart(files);
        return call('POST', `/api/${kind}/${parentId}/attachments`, {
          token,
          raw: form.body,
          headers: { 'content-type': form.contentType },
        });
      };
      const created = await upload(ann.token, [
        ['dot.png', PNG],
        ['note.txt', Buffer.from('plain words\n')],
      ]);
      expect(created.status).toBe(201);
      expect(created.body).toHaveLength(2);
      expect((await upload(bob.token, [['dot.png', PNG]])).status).toBe(403);
      expect((await upload(undefined, [['dot.png', PNG]])).status).toBe(401);
      expect((await upload(ann.token, [['fake.png', Buffer.from('not an image at all')]])).status).toBe(415);
      await expectStatus(415, 'POST', `/api/${kind}/${parentId}/attachments`, { token: ann.token, body: {} });
      await expectStatus(404, 'POST', `/api/${kind}/${MISSING_ID}/attachments`, {
        token: ann.token,
        raw: multipart([['dot.png', PNG]]).body,
        headers: { 'content-type': multipart([]).contentType },
      });

      await expectStatus(200, 'GET', `/api/${kind}/${parentId}/attachments`);
      await expectStatus(400, 'GET', `/api/${kind}/abc/attachments`);
      const attachmentId = created.body[0].id as number;
      await expectStatus(200, 'GET', `/api/${kind}/attachments/${attachmentId}`);
      await expectStatus(404, 'GET', `/api/${kind}/attachments/${MISSING_ID}`);
      const file = await expectStatus(200, 'GET', `/api/${kind}/attachments/${attachmentId}/file`);
      expect(file.headers.get('content-type')).toBe('image/png');
      await expectStatus(404, 'GET', `/api/${kind}/attachments/${MISSING_ID}/file`);
      await expectStatus(400, 'GET', `/api/${kind}/attachments/abc/file`);

      await expectStatus(403, 'DELETE', `/api/${kind}/attachments/${attachmentId}`, { token: bob.token });
      await expectStatus(401, 'DELETE', `/api/${kind}/attachments/${attachmentId}`);
      await expectStatus(204, 'DELETE', `/api/${kind}/attachments/${attachmentId}`, { token: ann.token });
      await expectStatus(404, 'DELETE', `/api/${kind}/attachments/${attachmentId}`, { token: ann.token });
    }
  });

  it('system: /health', async () => {
    const res = await expectStatus(200, 'GET', '/health');
    expect(res.body.status).toBe('ok');
  });

  it('a response the document does not describe is refused by the check', () => {
    const fake = (status: number, body: unknown): ApiResponse => ({
      status,
      headers: new Headers({ 'content-type': 'application/json' }),
      body,
      text: JSON.stringify(body),
    });
    expect(() => contract.check('GET', '/api/posts/1', fake(200, { id: 1 }))).toThrow(/does not match/);
    expect(() =>
      contract.check(
        'GET',
        '/api/auth/me',
        fake(200, {
          id: 1,
          name: 'a',
          username: 'a',
          email: 'a@b.c',
          age: 30,
          created_at: new Date().toISOString(),
          password_hash: 'x',
        }),
      ),
    ).toThrow(/additional properties/);
    expect(() => contract.check('GET', '/api/posts/1', fake(418, { error: 'teapot' }))).toThrow(
      /not documented/,
    );
    expect(() => contract.check('PATCH', '/api/posts/1', fake(200, {}))).toThrow(/no PATCH/);
  });

  it('exercised every documented operation', () => {
    const notCovered: string[] = [];
    for (const [p, item] of Object.entries(contract.document.paths)) {
      for (const [method] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const prefix = `${method.toUpperCase()} ${p} `;
        if (![...contract.covered].some((c) => c.startsWith(prefix))) notCovered.push(prefix.trim());
      }
    }
    expect(notCovered).toEqual([]);
  });
});
