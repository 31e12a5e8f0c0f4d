import express from 'express';
import request from 'supertest';
import {
  DEFAULT_PAGE_LIMIT,
  isPageRequested,
  lastPageOf,
  MAX_COUNTED_TOTAL,
  MAX_OFFSET,
  MAX_PAGE_LIMIT,
  pageLinks,
  parsePageRequest,
  setPageHeaders,
} from '../src';

const LIST = { items: 'things' };

/** The Link header as { rel: target }. */
function links(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of header.split(', ')) {
    const match = /^<([^>]*)>; rel="([a-z]+)"$/.exec(part);
    if (!match) throw new Error(`malformed link: ${part}`);
    out[match[2]!] = match[1]!;
  }
  return out;
}

describe('parsePageRequest, the one paging rule', () => {
  it('defaults to the first page of 20', () => {
    expect(parsePageRequest({}, LIST)).toEqual({ page: 1, limit: DEFAULT_PAGE_LIMIT, offset: 0 });
  });

  it('computes the offset, reads leading zeros and clamps a large limit instead of refusing it', () => {
    expect(parsePageRequest({ page: '3', limit: '10' }, LIST)).toEqual({ page: 3, limit: 10, offset: 20 });
    expect(parsePageRequest({ page: '03', limit: '010' }, LIST)).toEqual({ page: 3, limit: 10, offset: 20 });
    expect(parsePageRequest({ limit: '1000' }, LIST).limit).toBe(MAX_PAGE_LIMIT);
    expect(parsePageRequest({ limit: '99999999999999999999999' }, LIST).limit).toBe(MAX_PAGE_LIMIT);
  });

  it.each([
    [{ page: 'abc' }, 'page'],
    [{ page: '1.5' }, 'page'],
    [{ page: '' }, 'page'],
    [{ page: '1e3' }, 'page'],
    [{ page: '+2' }, 'page'],
    [{ page: ' 2' }, 'page'],
    [{ page: ['1', '2'] }, 'page'],
    [{ page: '0' }, 'page'],
    [{ page: '-3' }, 'page'],
    [{ limit: 'ten' }, 'limit'],
    [{ limit: '0x10' }, 'limit'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '-5' }, 'limit'],
    [{ limit: { a: '1' } }, 'limit'],
  ])('refuses %p with a 400 `invalid <name>` naming the field', (query, name) => {
    expect(() => parsePageRequest(query, LIST)).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST', message: `invalid ${name}`, details: { field: name } }),
    );
  });

  it('serves the deepest page that skips MAX_OFFSET rows and refuses any deeper one, naming the list', () => {
    expect(parsePageRequest({ page: '501' }, LIST)).toEqual({ page: 501, limit: 20, offset: MAX_OFFSET });
    expect(parsePageRequest({ page: '101', limit: '100' }, LIST)).toMatchObject({ offset: MAX_OFFSET });
    for (const [page, limit, deepest] of [
      ['502', '20', 501],
      ['102', '100', 101],
      ['99999999999999999999999', '20', 501],
    ] as const) {
      expect(() => parsePageRequest({ page, limit }, LIST)).toThrow(
        expect.objectContaining({
          code: 'BAD_REQUEST',
          message: `page must be at most ${deepest} for limit ${limit}: at most 10000 things are skipped`,
        }),
      );
    }
    expect(() => parsePageRequest({ page: '502' }, { items: 'posts', hint: 'filter by tag' })).toThrow(
      'page must be at most 501 for limit 20: at most 10000 posts are skipped; filter by tag',
    );
  });

  it('tells whether a page was asked for at all', () => {
    expect(isPageRequested({})).toBe(false);
    expect(isPageRequested({ page: '1' })).toBe(true);
    expect(isPageRequested({ limit: '5' })).toBe(true);
  });
});

describe('pageLinks', () => {
  const request1 = parsePageRequest({}, LIST);

  it('counts one (empty) page when there is nothing', () => {
    expect(lastPageOf(0, 20)).toBe(1);
    expect(lastPageOf(20, 20)).toBe(1);
    expect(lastPageOf(21, 20)).toBe(2);
    expect(links(pageLinks({ path: '/p', search: '', params: {}, request: request1, total: 0 }))).toEqual({
      first: '/p?page=1&limit=20',
      last: '/p?page=1&limit=20',
    });
  });

  it('links first, prev, next and last, keeping the filters', () => {
    const header = pageLinks({
      path: '/api/comments',
      search: 'post_id=9&page=2&limit=10',
      params: { post_id: '9' },
      request: parsePageRequest({ page: '2', limit: '10' }, LIST),
      total: 35,
    });
    expect(links(header)).toEqual({
      first: '/api/comments?post_id=9&page=1&limit=10',
      prev: '/api/comments?post_id=9&page=1&limit=10',
      next: '/api/comments?post_id=9&page=3&limit=10',
      last: '/api/comments?post_id=9&page=4&limit=10',
    });
  });

  it("keeps the client's order, with the clamped limit and normalised values, and drops what the list ignores", () => {
    const header = pageLinks({
      path: '/api/posts',
      search: 'tag=+caf%C3%A9+%26+co+&limit=1000&user_id=007&sort=x&page=2',
      params: { tag: 'café & co', user_id: '7' },
      request: parsePageRequest({ page: '2', limit: '1000' }, LIST),
      total: 250,
    });
    expect(links(header)).toEqual({
      first: '/api/posts?tag=caf%C3%A9+%26+co&limit=100&user_id=7&page=1',
      prev: '/api/posts?tag=caf%C3%A9+%26+co&limit=100&user_id=7&page=1',
      next: '/api/posts?tag=caf%C3%A9+%26+co&limit=100&user_id=7&page=3',
      last: '/api/posts?tag=caf%C3%A9+%26+co&limit=100&user_id=7&page=3',
    });
  });

  it('points prev of a page past the end at the last page, and last no deeper than a client may ask', () => {
    const beyond = pageLinks({
      path: '/p',
      search: '',
      params: {},
      request: parsePageRequest({ page: '9', limit: '2' }, LIST),
      total: 5,
    });
    expect(links(beyond).prev).toBe('/p?page=3&limit=2');
    expect(links(beyond).next).toBeUndefined();
    const huge = pageLinks({
      path: '/p',
      search: '',
      params: {},
      request: request1,
      total: MAX_COUNTED_TOTAL,
    });
    expect(links(huge).last).toBe('/p?page=501&limit=20');
  });

  it('encodes characters that could break the header', () => {
    const header = pageLinks({
      path: '/p',
      search: '',
      params: { tag: 'a>, <b; rel="x"' },
      request: request1,
      total: 1,
    });
    expect(Object.keys(links(header))).toEqual(['first', 'last']);
    expect(header).not.toMatch(/[^\x21-\x7e ]/);
  });
});

describe('setPageHeaders', () => {
  it("sets X-Total-Count and a Link built from the request's own path and query", async () => {
    const app = express();
    app.get('/api/things', (req, res) => {
      const page = parsePageRequest(req.query, LIST);
      setPageHeaders(req, res, { request: page, total: 45, params: { kind: 'a' } }).json([]);
    });
    const res = await request(app).get('/api/things?limit=20&kind=a&page=2');
    expect(res.headers['x-total-count']).toBe('45');
    expect(links(res.headers.link ?? '')).toEqual({
      first: '/api/things?limit=20&kind=a&page=1',
      prev: '/api/things?limit=20&kind=a&page=1',
      next: '/api/things?limit=20&kind=a&page=3',
      last: '/api/things?limit=20&kind=a&page=3',
    });
  });
});
