/**
 * An id from a URL, a call or an event: a positive integer that JavaScript represents exactly.
 * `abc`, `-1`, `0`, `1.5`, `1e3` and anything past 2^53 - 1 are not ids.
 */
export function parseId(raw: unknown): number | undefined {
  const text = typeof raw === 'number' ? String(raw) : raw;
  if (typeof text !== 'string' || !/^[0-9]{1,16}$/.test(text)) return undefined;
  const id = Number(text);
  return id >= 1 && Number.isSafeInteger(id) ? id : undefined;
}

/** A viewer in a gRPC call: 0 (or absent) is the anonymous reader. */
export const ANONYMOUS = 0;

export function parseViewerId(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === 0 || raw === '0') return ANONYMOUS;
  return parseId(raw);
}
