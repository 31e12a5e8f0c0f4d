import { badRequest } from '@mpb/errors';

/** How deep and how wide a JSON body may be; the size is bounded by the body limit before this runs. */
export interface JsonShapeLimits {
  /** Nesting of objects and arrays (a flat object is depth 1). */
  maxDepth: number;
  /** Object keys and array items in the whole body. */
  maxMembers: number;
}

export const DEFAULT_JSON_SHAPE: JsonShapeLimits = { maxDepth: 16, maxMembers: 1000 };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/**
 * Refuses a body whose shape is beyond what any route of the service reads, before JSON.parse builds
 * it: a small body can still hold hundreds of thousands of keys (each costs the parser and then
 * validation) or thousands of nesting levels. One pass over the raw bytes, outside strings: each
 * opening bracket is one level and, like each comma, one member. Malformed JSON is left to the parser.
 */
export function assertJsonShape(body: Buffer, limits: JsonShapeLimits): void {
  let depth = 0;
  let members = 0;
  let inString = false;
  for (let i = 0; i < body.length; i += 1) {
    const c = body[i]!;
    if (inString) {
      if (c === BACKSLASH) i += 1;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth += 1;
      members += 1;
      if (depth > limits.maxDepth)
        throw badRequest(`request body nests too deeply (at most ${limits.maxDepth} levels)`);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth -= 1;
    else if (c === COMMA) members += 1;
    if (members > limits.maxMembers)
      throw badRequest(`request body has too many fields (at most ${limits.maxMembers})`);
  }
}
