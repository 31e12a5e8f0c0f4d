import type Joi from 'joi';
import { EVENT_PAYLOAD_SCHEMAS, type PayloadSchemas } from './event-payloads';
import { TOPIC_OF_EVENT } from './events';

/**
 * One payload field as the snapshot records it: its JSON type and every rule on its values, and
 * whether producers always write it.
 */
export interface FieldDescription {
  type: 'integer' | 'number' | 'string' | 'boolean';
  required: boolean;
  nullable?: true;
  /** The only values allowed (sorted). */
  enum?: Array<string | number>;
  format?: 'date-time';
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
}

export interface EventDescription {
  topic: string;
  fields: Record<string, FieldDescription>;
}

/** Every event type's payload contract, as JSON: what `event-payloads.snapshot.json` holds. */
export type PayloadContract = Record<string, EventDescription>;

interface JoiRule {
  name: string;
  args?: { limit?: number };
}

interface JoiField {
  type: string;
  flags?: Record<string, unknown>;
  rules?: JoiRule[];
  allow?: unknown[];
}

const JSON_TYPES = new Set(['number', 'string', 'boolean']);
const KNOWN_PARTS = new Set(['type', 'flags', 'rules', 'allow']);

/**
 * Describes one field. Anything it does not know (a nested object, an unknown rule, flag or
 * preference) throws, so a schema cannot carry a constraint that the snapshot and the compatibility
 * check miss.
 */
function describeField(where: string, field: JoiField): FieldDescription {
  if (!JSON_TYPES.has(field.type))
    throw new Error(`${where}: cannot describe a field of joi type ${field.type}`);
  for (const part of Object.keys(field))
    if (!KNOWN_PARTS.has(part)) throw new Error(`${where}: cannot describe the joi ${part}`);
  const d: FieldDescription = {
    type: field.type as FieldDescription['type'],
    required: field.flags?.presence === 'required',
  };
  for (const [flag, value] of Object.entries(field.flags ?? {})) {
    if (flag === 'presence' && (value === 'required' || value === 'optional')) continue;
    if (flag === 'only' && value === true) continue;
    throw new Error(`${where}: cannot describe the flag ${flag}`);
  }
  const allowed = field.allow ?? [];
  if (allowed.includes(null)) d.nullable = true;
  const values = allowed.filter((v): v is string | number => v !== null);
  if (field.flags?.only === true) d.enum = [...values].sort();
  else if (values.length > 0) throw new Error(`${where}: cannot describe extra allowed values`);
  for (const rule of field.rules ?? []) {
    const limit = rule.args?.limit;
    if (rule.name === 'integer' && d.type === 'number') d.type = 'integer';
    else if (rule.name === 'isoDate' && d.type === 'string') d.format = 'date-time';
    else if (rule.name === 'min' && typeof limit === 'number')
      d[field.type === 'string' ? 'minLength' : 'minimum'] = limit;
    else if (rule.name === 'max' && typeof limit === 'number')
      d[field.type === 'string' ? 'maxLength' : 'maximum'] = limit;
    else throw new Error(`${where}: cannot describe the rule ${rule.name}`);
  }
  return d;
}

/** The payload contract of every event type (the registry's by default), with its topic. */
export function describePayloads(
  schemas: PayloadSchemas = EVENT_PAYLOAD_SCHEMAS,
  topics: Record<string, string> = TOPIC_OF_EVENT,
): PayloadContract {
  const contract: PayloadContract = {};
  for (const type of Object.keys(schemas).sort()) {
    const schema = (schemas as Record<string, Joi.ObjectSchema>)[type]!;
    const keys = (schema.describe() as { keys?: Record<string, JoiField> }).keys ?? {};
    const fields: Record<string, FieldDescription> = {};
    for (const name of Object.keys(keys).sort()) fields[name] = describeField(`${type}.${name}`, keys[name]!);
    contract[type] = { topic: topics[type] ?? '(none)', fields };
  }
  return contract;
}

/** A field's type and rules in one line (keys sorted, so the snapshot's order does not matter). */
function typeOf(f: FieldDescription): string {
  const { required: _required, ...rest } = f;
  return JSON.stringify(Object.fromEntries(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1))));
}

/**
 * The changes from `before` (the committed snapshot) to `after` that can break a consumer or a
 * producer deployed at another version, one message per change naming the event and the field.
 * Teams deploy services one at a time, so events written under either contract must pass the
 * other's reader: adding an optional field, or a new event type, is compatible; removing an event
 * type or a field, changing a topic or a field's type or rules, adding a required field, or making
 * a field required or optional is not.
 */
export function breakingChanges(before: PayloadContract, after: PayloadContract): string[] {
  const problems: string[] = [];
  for (const [type, old] of Object.entries(before)) {
    const now = after[type];
    if (!now) {
      problems.push(`${type}: event type removed`);
      continue;
    }
    if (now.topic !== old.topic) problems.push(`${type}: topic changed from ${old.topic} to ${now.topic}`);
    for (const [name, was] of Object.entries(old.fields)) {
      const is = now.fields[name];
      const where = `${type} field ${name}`;
      if (!is) {
        problems.push(`${where}: removed`);
        continue;
      }
      if (!was.required && is.required) problems.push(`${where}: made required`);
      if (was.required && !is.required) problems.push(`${where}: made optional (consumers rely on it)`);
      if (typeOf(was) !== typeOf(is))
        problems.push(`${where}: type changed from ${typeOf(was)} to ${typeOf(is)}`);
    }
    for (const [name, is] of Object.entries(now.fields)) {
      if (!old.fields[name] && is.required) problems.push(`${type} field ${name}: added as required`);
    }
  }
  return problems;
}
