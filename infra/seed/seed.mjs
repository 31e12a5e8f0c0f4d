#!/usr/bin/env node
// `npm run seed`: demo data through the public API of any running deployment.
//
//   npm run seed                                   # against http://127.0.0.1:8080
//   npm run seed -- --base-url https://blog.example.com --prefix demo_
//
// Idempotent: each entity is looked up before it is made, so a second run creates nothing.
// Users are found by logging in, posts by their author and title, comments by their author and
// text, likes by the liked state, attachments by file name; views are topped up to a target
// (read from the list, which counts none). A deployment counts one reader once per post within its
// window (metrics' VIEW_DEDUP_SECONDS, 30 minutes by default): the views then stop at one per reader
// (the anonymous one and the four demo users), and a run within the window adds none. With
// VIEW_DEDUP_SECONDS=0 the anonymous reader reaches every target.
// Prints one JSON line per run: what was created and what already existed.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const PASSWORD = 'demo-password-1'; // demo accounts only: never seed a real deployment's users

const USERS = [
  { key: 'ann', name: 'Ann Archer', age: 34 },
  { key: 'ben', name: 'Ben Baker', age: 41 },
  { key: 'cleo', name: 'Cleo Cruz', age: 27 },
  { key: 'dan', name: 'Dan Doyle', age: null },
];

const POSTS = [
  {
    author: 'ann',
    title: 'Designing a Kafka event envelope',
    tag: 'architecture',
    description:
      'Why every event carries an id, a type, a version, the aggregate id and trace context, and how consumers use them to stay idempotent.',
    comments: [
      { author: 'ben', text: 'The dead-letter topic section was exactly what I needed.' },
      { author: 'cleo', text: 'How do you version the payload when a field is renamed?' },
      { author: 'ann', text: 'A new version number and both shapes accepted for a while.' },
    ],
    likes: ['ben', 'cleo', 'dan'],
    views: 42,
    attachments: [
      {
        name: 'envelope.txt',
        type: 'text/plain',
        body: 'id, type, version, time, aggregate_id, payload, trace\n',
      },
    ],
  },
  {
    author: 'ann',
    title: 'Exactly-once counters with PostgreSQL',
    tag: 'databases',
    description:
      'Storing the applied Kafka offsets in the same transaction as the counts makes a replay harmless.',
    comments: [{ author: 'dan', text: 'Does this survive a consumer killed mid-batch?' }],
    likes: ['dan'],
    views: 17,
    attachments: [],
  },
  {
    author: 'ben',
    title: 'Streaming uploads without buffering',
    tag: 'architecture',
    description: 'Multipart parts go straight to S3 in bounded chunks; the type is decided from the bytes.',
    comments: [{ author: 'ann', text: 'Nice: the 413 leaves nothing behind in the bucket.' }],
    likes: ['ann'],
    views: 9,
    attachments: [{ name: 'pixel.png', type: 'image/png', body: 'png' }],
  },
  {
    author: 'cleo',
    title: 'A week of sourdough experiments',
    tag: 'cooking',
    description: 'Hydration, starter age and oven temperature, one variable at a time, with notes.',
    comments: [
      { author: 'ben', text: 'Seventy-five percent hydration worked best for me too.' },
      { author: 'dan', text: 'What flour did you use?' },
    ],
    likes: ['ann', 'ben'],
    views: 25,
    attachments: [],
  },
  {
    author: 'dan',
    title: 'Notes from a rainy hike',
    tag: null,
    description: 'Twelve kilometres, three waterfalls and one very muddy pair of boots.',
    comments: [],
    likes: [],
    views: 3,
    attachments: [],
  },
];

// A 1×1 transparent PNG: real image bytes, so the attachments service's type check accepts it.
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

class ApiError extends Error {
  constructor(method, path, status, body) {
    super(`${method} ${path} → ${status}: ${typeof body === 'object' ? JSON.stringify(body) : body}`);
    this.status = status;
    this.body = body;
  }
}

function client(baseUrl) {
  return async function call(method, path, { token, json, form, expect = [200] } = {}) {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    let body;
    if (json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form) body = form;
    const res = await fetch(new URL(path, baseUrl), {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text for the error message
    }
    if (!expect.includes(res.status)) throw new ApiError(method, path, res.status, parsed);
    return { status: res.status, body: parsed, headers: res.headers };
  };
}

export async function seed({ baseUrl, prefix = '' }) {
  const call = client(baseUrl);
  const created = { users: 0, posts: 0, comments: 0, likes: 0, views: 0, attachments: 0 };
  const existing = { users: 0, posts: 0, comments: 0, likes: 0, attachments: 0 };
  const users = new Map();

  for (const u of USERS) {
    const username = `${prefix}${u.key}`;
    const registered = await call('POST', '/api/auth/register', {
      json: { name: u.name, username, email: `${username}@example.com`, password: PASSWORD, age: u.age },
      expect: [201, 409, 400],
    });
    if (registered.status === 400) throw new ApiError('POST', '/api/auth/register', 400, registered.body);
    if (registered.status === 201) created.users++;
    else existing.users++;
    const login = await call('POST', '/api/auth/login', { json: { username, password: PASSWORD } });
    users.set(u.key, { id: login.body.user.id, token: login.body.token });
  }

  for (const p of POSTS) {
    const author = users.get(p.author);
    const mine = await call('GET', `/api/posts?user_id=${author.id}&limit=100`);
    let post = mine.body.find((x) => x.title === p.title);
    if (post) existing.posts++;
    else {
      post = (
        await call('POST', '/api/posts', {
          token: author.token,
          json: { title: p.title, description: p.description, tag: p.tag },
          expect: [201],
        })
      ).body;
      created.posts++;
    }

    const comments = (await call('GET', `/api/posts/${post.id}/comments?limit=100`)).body;
    for (const c of p.comments) {
      const commenter = users.get(c.author);
      if (comments.some((x) => x.user_id === commenter.id && x.text === c.text)) {
        existing.comments++;
        continue;
      }
      await call('POST', `/api/posts/${post.id}/comments`, {
        token: commenter.token,
        json: { text: c.text },
        expect: [201],
      });
      created.comments++;
    }

    for (const key of p.likes) {
      const liker = users.get(key);
      const state = await call('GET', `/api/posts/${post.id}/like`, { token: liker.token });
      if (state.body.liked) {
        existing.likes++;
        continue;
      }
      // 400 `user already liked this post`: a concurrent run got there first, which is fine.
      await call('POST', `/api/posts/${post.id}/like`, { token: liker.token, expect: [200, 400] });
      created.likes++;
    }

    // A read of a post counts a view unless its reader was counted within the deployment's window
    // (X-View-Recorded: false); then the next reader takes over. The list counts none.
    let seen = post.count_viewers;
    for (const reader of [undefined, ...users.values()]) {
      while (seen < p.views) {
        const read = await call('GET', `/api/posts/${post.id}`, { token: reader?.token });
        if (read.headers.get('x-view-recorded') !== 'true') break;
        seen = Math.max(seen + 1, read.body.count_viewers);
        created.views++;
      }
    }

    if (p.attachments.length > 0) {
      const have = (await call('GET', `/api/posts/${post.id}/attachments`)).body;
      for (const a of p.attachments) {
        if (have.some((x) => x.file_name === a.name)) {
          existing.attachments++;
          continue;
        }
        const bytes = a.type === 'image/png' ? PNG_1X1 : Buffer.from(a.body);
        const form = new FormData();
        form.append('files', new Blob([bytes], { type: a.type }), a.name);
        await call('POST', `/api/posts/${post.id}/attachments`, { token: author.token, form, expect: [201] });
        created.attachments++;
      }
    }
  }
  return { created, existing };
}

async function main() {
  const { values } = parseArgs({
    options: {
      'base-url': { type: 'string', default: process.env.SEED_BASE_URL ?? 'http://127.0.0.1:8080' },
      prefix: { type: 'string', default: process.env.SEED_PREFIX ?? '' },
    },
  });
  try {
    const result = await seed({ baseUrl: values['base-url'], prefix: values.prefix });
    process.stdout.write(`${JSON.stringify({ base_url: values['base-url'], ...result })}\n`);
  } catch (err) {
    const hint =
      err.cause?.code === 'ECONNREFUSED'
        ? ` (is the platform running? \`npm start\` serves ${values['base-url']})`
        : '';
    process.stderr.write(`seed failed: ${err.message}${hint}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
