import { parseId } from '@mpb/contracts';
import { badRequest } from '@mpb/errors';

/**
 * The id in a path, a query value or a call's field, read by the platform's one rule (`parseId` in
 * @mpb/contracts), or a 400 (INVALID_ARGUMENT over gRPC) with the old API's message for that id,
 * e.g. `invalid post id`.
 */
export function requireId(raw: unknown, message: string): number {
  const id = parseId(raw);
  if (id === undefined) throw badRequest(message);
  return id;
}
