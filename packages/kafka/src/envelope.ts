import { parseEnvelope, type EventEnvelope } from '@mpb/contracts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TYPE = /^[a-z]+(\.[a-z_]+)+$/;
const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;
const isOptionalText = (v: unknown, max: number): boolean => v === undefined || isText(v, max);

/**
 * True when the envelope is in the exact form `createEnvelope` writes (canonical UUID, ISO time as
 * `toISOString` prints it, integer version, ...). Every such envelope is one `parseEnvelope` accepts
 * and returns unchanged; anything else is left to it.
 */
function isCanonical(data: unknown): data is EventEnvelope {
  if (!isObject(data)) return false;
  const { id, type, version, time, source, aggregate_type, aggregate_id, payload, trace } = data;
  if (!(typeof id === 'string' && UUID.test(id))) return false;
  if (!(isText(type, 100) && TYPE.test(type))) return false;
  if (!(typeof version === 'number' && Number.isSafeInteger(version) && version >= 1)) return false;
  if (!(typeof time === 'string' && CANONICAL_TIME.test(time))) return false;
  const ms = Date.parse(time);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== time) return false;
  if (!isText(source, 100) || !isText(aggregate_type, 100) || !isText(aggregate_id, 100)) return false;
  if (!isObject(payload)) return false;
  if (trace !== undefined) {
    if (!isObject(trace)) return false;
    if (!isOptionalText(trace.traceparent, 200) || !isOptionalText(trace.tracestate, 1000)) return false;
  }
  return true;
}

/**
 * `parseEnvelope` with a fast path for hot consumers: an envelope in the canonical form is checked
 * by hand (no schema validation); any other message goes through `parseEnvelope`, which accepts the
 * variants it allows and throws `InvalidEventError` with its reason for the rest. Accepts and refuses
 * exactly what `parseEnvelope` does, and returns the same envelope.
 */
export function parseEnvelopeFast(raw: Buffer | string | null): EventEnvelope {
  if (raw === null || raw.length === 0) return parseEnvelope(raw);
  let data: unknown;
  try {
    data = JSON.parse(raw.toString());
  } catch {
    return parseEnvelope(raw);
  }
  if (!isCanonical(data)) return parseEnvelope(raw);
  return data.trace === undefined ? { ...data, trace: {} } : data;
}
