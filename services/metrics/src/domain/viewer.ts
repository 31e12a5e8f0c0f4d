import { isIPv4, isIPv6 } from 'node:net';

/** The longest anonymous viewer address accepted in a call (an IPv6 text with a zone fits easily). */
export const MAX_VIEWER_ADDRESS_LENGTH = 64;

const PRINTABLE = /^[\x21-\x7e]+$/;

/**
 * The name under which a viewer's view of a post is remembered for deduplication: `u<id>` for a
 * signed-in viewer, `a<address>` for an anonymous one with a client address, undefined for an
 * anonymous call without one (it is not deduplicated: every such view counts). Addresses are
 * normalised so one client cannot pass as many: an IPv4-mapped IPv6 address is its IPv4 address, and
 * an IPv6 address stands for its /64 (what one subscriber line or host usually holds: a client can
 * pick any address inside it). Throws on an address that is too long or not printable.
 */
export function viewerKey(viewerId: number, address: string | undefined): string | undefined {
  if (viewerId !== 0) return `u${viewerId}`;
  if (address === undefined || address === '') return undefined;
  if (address.length > MAX_VIEWER_ADDRESS_LENGTH || !PRINTABLE.test(address)) {
    throw new RangeError('invalid viewer address');
  }
  return `a${normaliseAddress(address)}`;
}

/** IPv4 as it is; IPv6 as its first four groups; anything else (a proxy's placeholder) lower-cased. */
export function normaliseAddress(raw: string): string {
  const address = raw.replace(/%.*$/, '').toLowerCase();
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return raw.toLowerCase();
  const groups = expandIPv6(address);
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const [hi, lo] = [parseInt(groups[6]!, 16), parseInt(groups[7]!, 16)];
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  }
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, without leading zeros (an embedded IPv4 tail becomes two groups). */
function expandIPv6(address: string): string[] {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
}
