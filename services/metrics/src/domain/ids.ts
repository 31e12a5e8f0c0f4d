import { parseId } from '@mpb/contracts';

/** A viewer in a gRPC call: 0 (or absent) is the anonymous reader. */
export const ANONYMOUS = 0;

/** Any other viewer is a user id, read by the platform's one id rule. */
export function parseViewerId(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === 0 || raw === '0') return ANONYMOUS;
  return parseId(raw);
}
