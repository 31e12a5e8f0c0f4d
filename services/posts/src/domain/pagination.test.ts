import { lastPageOf, offsetOf, pageLinks } from './pagination';

/** The Link header as { rel: target }. */
function parse(header: string): Record<string, string> {
  const links: Record<string, string> = {};
  for (const part of header.split(', ')) {
    const match = /^<([^>]*)>; rel="([a-z]+)"$/.exec(part);
    if (!match) throw new Error(`malformed link: ${part}`);
    links[match[2]!] = match[1]!;
  }
  return links;
}

describe('page arithmetic', () => {
  it('computes offsets and the last page', () => {
    expect(offsetOf({ page: 1, limit: 20 })).toBe(0);
    expect(offsetOf({ page: 3, limit: 20 })).toBe(40);
    expect(lastPageOf(0, 20)).toBe(1);
    expect(lastPageOf(20, 20)).toBe(1);
    expect(lastPageOf(21, 20)).toBe(2);
    expect(lastPageOf(101, 100)).toBe(2);
  });
});

describe('Link header', () => {
  it('has first, next and last on the first page, no prev', () => {
    const links = parse(
      pageLinks({ path: '/api/posts', search: '', query: { page: 1, limit: 20 }, total: 45 }),
    );
    expect(links).toEqual({
      first: '/api/posts?page=1&limit=20',
      next: '/api/posts?page=2&limit=20',
      last: '/api/posts?page=3&limit=20',
    });
  });

  it('has prev and no next on the last page', () => {
    const links = parse(
      pageLinks({ path: '/api/posts', search: 'page=3', query: { page: 3, limit: 20 }, total: 45 }),
    );
    expect(links).toEqual({
      first: '/api/posts?page=1&limit=20',
      prev: '/api/posts?page=2&limit=20',
      last: '/api/posts?page=3&limit=20',
    });
  });

  it('points first and last at page 1 when there is nothing', () => {
    const links = parse(
      pageLinks({ path: '/api/posts', search: '', query: { page: 1, limit: 20 }, total: 0 }),
    );
    expect(links).toEqual({ first: '/api/posts?page=1&limit=20', last: '/api/posts?page=1&limit=20' });
  });

  it('points prev at the last page from beyond the end', () => {
    const links = parse(
      pageLinks({ path: '/api/posts', search: '', query: { page: 9, limit: 20 }, total: 45 }),
    );
    expect(links.prev).toBe('/api/posts?page=3&limit=20');
    expect(links.next).toBeUndefined();
  });

  it('keeps the filters and the client order, with the clamped limit and normalised values', () => {
    const header = pageLinks({
      path: '/api/posts',
      search: 'tag=+caf%C3%A9+%26+co+&limit=1000&user_id=007&sort=x&page=2',
      query: { page: 2, limit: 100, tag: 'café & co', userId: 7 },
      total: 250,
    });
    expect(parse(header)).toEqual({
      first: '/api/posts?tag=caf%C3%A9+%26+co&limit=100&user_id=7&page=1',
      prev: '/api/posts?tag=caf%C3%A9+%26+co&limit=100&user_id=7&page=1',
      next: '/api/posts?tag=caf%C3%A9+%26+co&limit=100&user_id=7&page=3',
      last: '/api/posts?tag=caf%C3%A9+%26+co&limit=100&user_id=7&page=3',
    });
  });

  it('encodes characters that could break the header', () => {
    const header = pageLinks({
      path: '/api/posts',
      search: '',
      query: { page: 1, limit: 20, tag: 'a>, <b; rel="x"' },
      total: 1,
    });
    expect(Object.keys(parse(header))).toEqual(['first', 'last']);
    expect(header).not.toMatch(/[^\x21-\x7e ]/);
  });
});
