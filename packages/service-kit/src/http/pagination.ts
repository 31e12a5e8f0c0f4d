import type { Request, Response } from 'express';
import { badRequest } from '@mpb/errors';

/**
 * The one paging rule of every list: `page` (1-based, default 1) and `limit` (default 20, larger
 * values clamped to 100); the body stays the old bare array and `X-Total-Count` and an RFC 8288
 * `Link` header carry the rest.
 */
export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;
/**
 * Most rows a page may skip ((page - 1) × limit): deep offsets cost a scan of every skipped row and
 * are useless to people.
 */
export const MAX_OFFSET = 10_000;
/**
 * Totals are counted up to this many rows (every row any page can reach); a larger total is reported
 * as this number, so one list request never counts more than about ten thousand rows.
 */
export const MAX_COUNTED_TOTAL = MAX_OFFSET + MAX_PAGE_LIMIT;

/** The deepest page a limit reaches. */
export const maxPageOf = (limit: number): number => Math.floor(MAX_OFFSET / limit) + 1;

/** The last page that has items; page 1 when there are none. */
export const lastPageOf = (total: number, limit: number): number => Math.max(1, Math.ceil(total / limit));

export interface PageRequest {
  /** 1-based. */
  page: number;
  /** Already clamped to MAX_PAGE_LIMIT. */
  limit: number;
  /** Rows skipped: (page - 1) × limit, at most MAX_OFFSET. */
  offset: number;
}

/** One page of a list, with the total the headers report. */
export interface Page<T> {
  items: T[];
  /** Counted up to MAX_COUNTED_TOTAL. */
  total: number;
  request: PageRequest;
}

export interface ListPaging {
  /** What the list holds, plural, for the deep-page message (`posts`, `comments`). */
  items: string;
  /** Appended to the deep-page message: how a client reaches what lies deeper. */
  hint?: string;
}

/** Digits only, as ids are: no sign, no spaces, no exponent. */
const DIGITS = /^[0-9]{1,30}$/;

function positiveParam(raw: unknown, name: 'page' | 'limit'): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !DIGITS.test(raw) || Number(raw) < 1) {
    throw badRequest(`invalid ${name}`, { details: { field: name } });
  }
  return Number(raw);
}

/**
 * `page` and `limit` from a list's query. Anything but a positive integer (text, decimals, signs,
 * repeats, zero) is a 400 `invalid page` / `invalid limit`, in the old API's `invalid post_id` style;
 * a limit past the maximum is clamped rather than refused, so a client asking for "everything" gets
 * a full page; a page that would skip more than MAX_OFFSET rows is a 400 naming the deepest page.
 */
export function parsePageRequest(query: { page?: unknown; limit?: unknown }, list: ListPaging): PageRequest {
  const page = positiveParam(query.page, 'page') ?? 1;
  const limit = Math.min(positiveParam(query.limit, 'limit') ?? DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT);
  if (page > maxPageOf(limit)) {
    const hint = list.hint ? `; ${list.hint}` : '';
    throw badRequest(
      `page must be at most ${maxPageOf(limit)} for limit ${limit}: at most ${MAX_OFFSET} ${list.items} are skipped${hint}`,
      { details: { field: 'page' } },
    );
  }
  return { page, limit, offset: (page - 1) * limit };
}

/** Whether the client asked for a page at all (a list whose paging is opt-in answers whole otherwise). */
export const isPageRequested = (query: { page?: unknown; limit?: unknown }): boolean =>
  query.page !== undefined || query.limit !== undefined;

export interface PageLinksInput {
  /** The request's path, e.g. `/api/posts`. */
  path: string;
  /** The request's query string without the `?`, to keep the client's parameter order. */
  search: string;
  /** The list's filters as the service understood them (normalised), carried into every link. */
  params: Record<string, string>;
  request: PageRequest;
  total: number;
}

/**
 * An RFC 8288 `Link` header with first, prev, next and last pages. The links are relative
 * references (the request's own path), so they stay right behind the gateway or any proxy. Only the
 * parameters the list understands are carried, normalised (the clamped limit, the trimmed tag), in
 * the order the client wrote them, then whatever it left out (page and limit, usually).
 */
export function pageLinks({ path, search, params, request, total }: PageLinksInput): string {
  const values = new Map<string, string>(Object.entries(params));
  values.set('page', String(request.page));
  values.set('limit', String(request.limit));
  const order: string[] = [];
  for (const name of new URLSearchParams(search).keys()) {
    if (values.has(name) && !order.includes(name)) order.push(name);
  }
  for (const name of values.keys()) if (!order.includes(name)) order.push(name);

  const link = (page: number, rel: string): string => {
    const qs = new URLSearchParams();
    for (const name of order) qs.append(name, name === 'page' ? String(page) : values.get(name)!);
    return `<${path}?${qs.toString()}>; rel="${rel}"`;
  };
  // The deepest page the offset cap lets a client ask for, when the total reaches past it.
  const last = Math.min(lastPageOf(total, request.limit), maxPageOf(request.limit));
  const links = [link(1, 'first')];
  if (request.page > 1) links.push(link(Math.min(request.page - 1, last), 'prev'));
  if (request.page < last) links.push(link(request.page + 1, 'next'));
  links.push(link(last, 'last'));
  return links.join(', ');
}

const queryStringOf = (req: Request): string => {
  const at = req.originalUrl.indexOf('?');
  return at === -1 ? '' : req.originalUrl.slice(at + 1);
};

/** Sets `X-Total-Count` and `Link` on a page's response; the body is the route's. */
export function setPageHeaders(
  req: Request,
  res: Response,
  page: { request: PageRequest; total: number; params?: Record<string, string> },
): Response {
  return res.set('X-Total-Count', String(page.total)).set(
    'Link',
    pageLinks({
      path: req.path,
      search: queryStringOf(req),
      params: page.params ?? {},
      request: page.request,
      total: page.total,
    }),
  );
}
