import {
  DEFAULT_PAGE_LIMIT,
  lastPageOf,
  linkHeader,
  MAX_COUNTED_TOTAL,
  MAX_OFFSET,
  MAX_PAGE_LIMIT,
  parsePageRequest,
} from './pagination';

describe('page requests', () => {
  it('defaults to the first page of 20', () => {
    expect(parsePageRequest({})).toEqual({ page: 1, limit: DEFAULT_PAGE_LIMIT, offset: 0 });
  });

  it('computes the offset from page and limit', () => {
    expect(parsePageRequest({ page: '3', limit: '10' })).toEqual({ page: 3, limit: 10, offset: 20 });
  });

  it.each([
    [{ limit: '1000' }, { page: 1, limit: MAX_PAGE_LIMIT }],
    [
      { page: '+2', limit: '100' },
      { page: 2, limit: 100 },
    ],
  ])('clamps %p into range', (query, expected) => {
    expect(parsePageRequest(query)).toMatchObject(expected);
  });

  it('serves the deepest page that skips MAX_OFFSET comments and refuses any deeper one with a 400', () => {
    expect(parsePageRequest({ page: '501' })).toEqual({ page: 501, limit: 20, offset: MAX_OFFSET });
    expect(parsePageRequest({ page: '101', limit: '100' })).toMatchObject({ offset: MAX_OFFSET });
    for (const [page, limit, deepest] of [
      ['502', '20', 501],
      ['102', '100', 101],
      ['100000000', '20', 501],
      ['99999999999999999999999', '20', 501],
    ] as const) {
      expect(() => parsePageRequest({ page, limit })).toThrow(
        expect.objectContaining({
          code: 'BAD_REQUEST',
          message: `page must be at most ${deepest} for limit ${limit}: at most ${MAX_OFFSET} comments are skipped`,
        }),
      );
    }
  });

  it('links the last page no deeper than a client may ask for', () => {
    const header = linkHeader('/p', {}, parsePageRequest({}), MAX_COUNTED_TOTAL);
    expect(header).toContain('</p?page=501&limit=20>; rel="last"');
  });

  it.each([
    [{ page: 'abc' }, 'invalid page'],
    [{ page: '1.5' }, 'invalid page'],
    [{ page: '' }, 'invalid page'],
    [{ page: '1e3' }, 'invalid page'],
    [{ page: ['1', '2'] }, 'invalid page'],
    [{ limit: 'ten' }, 'invalid limit'],
    [{ limit: '0x10' }, 'invalid limit'],
    [{ limit: ' 5' }, 'invalid limit'],
    [{ limit: '0' }, 'invalid limit'],
    [{ limit: '-5' }, 'invalid limit'],
    [{ page: '0' }, 'invalid page'],
    [{ page: '-3' }, 'invalid page'],
  ])('refuses %p with a 400', (query, message) => {
    expect(() => parsePageRequest(query)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', message }));
  });
});

describe('Link header', () => {
  const links = (header: string): Record<string, string> =>
    Object.fromEntries(
      header.split(', ').map((part) => {
        const [, target, rel] = /^<([^>]+)>; rel="([a-z]+)"$/.exec(part) ?? [];
        return [rel as string, target as string];
      }),
    );

  it('links first, prev, next and last, keeping the filter', () => {
    const header = linkHeader(
      '/api/comments',
      { post_id: '9' },
      parsePageRequest({ page: '2', limit: '10' }),
      35,
    );
    expect(links(header)).toEqual({
      first: '/api/comments?post_id=9&page=1&limit=10',
      prev: '/api/comments?post_id=9&page=1&limit=10',
      next: '/api/comments?post_id=9&page=3&limit=10',
      last: '/api/comments?post_id=9&page=4&limit=10',
    });
  });

  it('has no prev on the first page and no next on the last', () => {
    expect(Object.keys(links(linkHeader('/p', {}, parsePageRequest({}), 5)))).toEqual(['first', 'last']);
    expect(Object.keys(links(linkHeader('/p', {}, parsePageRequest({ limit: '2' }), 5)))).toEqual([
      'first',
      'next',
      'last',
    ]);
  });

  it('points prev at the last page from beyond the end', () => {
    expect(links(linkHeader('/p', {}, parsePageRequest({ page: '9', limit: '2' }), 5)).prev).toBe(
      '/p?page=3&limit=2',
    );
  });

  it('counts one (empty) page when there is nothing', () => {
    expect(lastPageOf(0, 20)).toBe(1);
    expect(lastPageOf(40, 20)).toBe(2);
    expect(lastPageOf(41, 20)).toBe(3);
  });
});
