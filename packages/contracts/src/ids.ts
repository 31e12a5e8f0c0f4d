/**
 * Digits only, at most 32 of them: room for any id (2^53 - 1 has 16 digits) behind leading zeros;
 * a longer value is refused before it is converted.
 */
const ID_DIGITS = /^[0-9]{1,32}$/;

/**
 * The platform's one id rule, for paths, query values, gRPC fields and token subjects: a positive
 * integer that JavaScript represents exactly (at most 2^53 - 1), in decimal digits. Leading zeros are
 * allowed, `007` is 7, as the old API's integer parsing read it. `abc`, `-1`, `+1`, `0`, `1.5`, `1e3`,
 * ` 1`, an empty string and anything past 2^53 - 1 are not ids; nor is anything but a string or a
 * number (an array from a repeated query parameter, for one).
 */
export function parseId(raw: unknown): number | undefined {
  const text = typeof raw === 'number' ? String(raw) : raw;
  if (typeof text !== 'string' || !ID_DIGITS.test(text)) return undefined;
  // Anything past 2^53 - 1 (rounded or not) is no safe integer: refused.
  const id = Number(text);
  return id >= 1 && Number.isSafeInteger(id) ? id : undefined;
}
