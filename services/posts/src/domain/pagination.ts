import { maxPageOf, type ListQuery } from './validation';

export const offsetOf = (q: Pick<ListQuery, 'page' | 'limit'>): number => (q.page - 1) * q.limit;

/** The last page that has items; page 1 when there are none. */
export const lastPageOf = (total: number, limit: number): number => Math.max(1, Math.ceil(total / limit));

/** Query parameters a page link carries, with the values the service understood. */
function linkParams(q: ListQuery): Map<string, string> {
  const params = new Map<string, string>([
    ['page', String(q.page)],
    ['limit', String(q.limit)],
  ]);
  if (q.tag !== undefined) params.set('tag', q.tag);
  if (q.userId !== undefined) params.set('user_id', String(q.userId));
  return params;
}

export interface PageLinksInput {
  /** The request's path, e.g. `/api/posts`. */
  path: string;
  /** The request's query string without the `?`, to keep the client's parameter order. */
  search: string;
  query: ListQuery;
  total: number;
}

/**
 * An RFC 8288 `Link` header with first, prev, next and last pages. The links are relative
 * references (the request's own path), so they stay right behind the gateway or any proxy. Only the
 * parameters the list understands are carried, normalised (the clamped limit, the trimmed tag).
 */
export function pageLinks({ path, search, query, total }: PageLinksInput): string {
  const values = linkParams(query);
  // The client's order first, then whatever it left out (page and limit, usually).
  const order: string[] = [];
  for (const name of new URLSearchParams(search).keys()) {
    if (values.has(name) && !order.includes(name)) order.push(name);
  }
  for (const name of values.keys()) if (!order.includes(name)) order.push(name);

  const link = (page: number, rel: string): string => {
    const qs = new URLSearchParams();
    for (const name of order) qs.append(name, name === 'page' ? String(page) : (values.get(name) as string));
    return `<${path}?${qs.toString()}>; rel="${rel}"`;
  };
  // The deepest page the offset cap lets a client ask for, when the total reaches past it.
  const last = Math.min(lastPageOf(total, query.limit), maxPageOf(query.limit));
  const links = [link(1, 'first')];
  if (query.page > 1) links.push(link(Math.min(query.page - 1, last), 'prev'));
  if (query.page < last) links.push(link(query.page + 1, 'next'));
  links.push(link(last, 'last'));
  return links.join(', ');
}
