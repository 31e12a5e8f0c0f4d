import { badRequest } from '@mpb/errors';

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;
/**
 * Most rows a page may skip ((page - 1) × limit): deep offsets cost a scan of every skipped row and
 * are useless to people.
 */
export const MAX_OFFSET = 10_000;
/** The deepest page a limit reaches. */
export const maxPageOf = (limit: number): number => Math.floor(MAX_OFFSET / limit) + 1;
/** Totals are counted up to this many rows (every row a page can reach); a larger one is reported as this. */
export const MAX_COUNTED_TOTAL = MAX_OFFSET + MAX_PAGE_LIMIT;

export interface PageRequest {
  /** 1-based. */
  page: number;
  limit: number;
  offset: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  request: PageRequest;
}

const INTEGER = /^[+-]?[0-9]{1,30}$/;

/**
 * A positive integer query value, or undefined when absent; anything else (text, decimals, repeats,
 * zero, negatives) is a 400, as the API document's `minimum: 1` says and as posts answers.
 */
function positiveParam(raw: unknown, name: string): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !INTEGER.test(raw) || Number(raw) < 1) throw badRequest(`invalid ${name}`);
  return Number(raw);
}

/**
 * `page` (default 1) and `limit` (default 20); a limit past the maximum is clamped, a page that would
 * skip more than MAX_OFFSET comments is a 400.
 */
export function parsePageRequest(query: { page?: unknown; limit?: unknown }): PageRequest {
  const page = positiveParam(query.page, 'page') ?? 1;
  const limit = Math.min(positiveParam(query.limit, 'limit') ?? DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT);
  if (page > maxPageOf(limit)) {
    throw badRequest(
      `page must be at most ${maxPageOf(limit)} for limit ${limit}: at most ${MAX_OFFSET} comments are skipped`,
    );
  }
  return { page, limit, offset: (page - 1) * limit };
}

export const lastPageOf = (total: number, limit: number): number => Math.max(1, Math.ceil(total / limit));

/**
 * An RFC 8288 `Link` header value with first, prev, next and last. The targets are relative
 * references (path and query), which resolve against the URL the client asked for, wherever the
 * gateway is mounted; `params` are kept in every link (the post filter).
 */
export function linkHeader(
  path: string,
  params: Record<string, string>,
  { page, limit }: PageRequest,
  total: number,
): string {
  // The deepest page the offset cap lets a client ask for, when the total reaches past it.
  const last = Math.min(lastPageOf(total, limit), maxPageOf(limit));
  const target = (p: number): string => {
    const query = new URLSearchParams({ ...params, page: String(p), limit: String(limit) });
    return `${path}?${query.toString()}`;
  };
  const links: Array<[string, number]> = [['first', 1]];
  if (page > 1) links.push(['prev', Math.min(page - 1, last)]);
  if (page < last) links.push(['next', page + 1]);
  links.push(['last', last]);
  return links.map(([rel, p]) => `<${target(p)}>; rel="${rel}"`).join(', ');
}
