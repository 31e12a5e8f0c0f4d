import { createEnvelope, parseEnvelope } from '@mpb/contracts';
import { parseEnvelopeFast } from './envelope';

const canonical = () =>
  createEnvelope({
    type: 'post.viewed',
    aggregateType: 'post',
    aggregateId: 42,
    payload: { post_id: 42, viewer_id: 0, nested: { a: [1, 2] } },
    source: 'metrics',
    trace: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
  });

/** The fast parser must agree with parseEnvelope on every input: same result, or same error. */
function agree(raw: Buffer | string | null): void {
  let expected: unknown;
  let expectedError: string | undefined;
  try {
    expected = parseEnvelope(raw);
  } catch (err) {
    expectedError = (err as Error).message;
  }
  if (expectedError !== undefined) {
    expect(() => parseEnvelopeFast(raw)).toThrow(expectedError);
  } else {
    expect(parseEnvelopeFast(raw)).toEqual(expected);
  }
}

const variant = (change: (e: Record<string, unknown>) => void): string => {
  const e = canonical() as unknown as Record<string, unknown>;
  change(e);
  return JSON.stringify(e);
};

describe('parseEnvelopeFast', () => {
  it('returns what parseEnvelope returns for envelopes written by createEnvelope', () => {
    const raw = Buffer.from(JSON.stringify(canonical()));
    agree(raw);
    expect(parseEnvelopeFast(raw)).toEqual(parseEnvelope(raw));
  });

  it.each([
    ['without trace', (e: Record<string, unknown>) => delete e.trace],
    ['with an extra field', (e: Record<string, unknown>) => (e.extra = true)],
    ['with an upper-case id', (e: Record<string, unknown>) => (e.id = String(e.id).toUpperCase())],
    ['with a braced id', (e: Record<string, unknown>) => (e.id = `{${String(e.id)}}`)],
    ['with a time offset', (e: Record<string, unknown>) => (e.time = '2026-11-27T10:00:00+02:00')],
    ['with a version as text', (e: Record<string, unknown>) => (e.version = '2')],
    ['with an empty trace', (e: Record<string, unknown>) => (e.trace = {})],
  ])('agrees with parseEnvelope on a valid envelope %s', (_name, change) => {
    agree(variant(change));
  });

  it.each([
    ['an empty message', ''],
    ['null', null],
    ['not JSON', '{oops'],
    ['an array', '[1]'],
    ['a bad id', variant((e) => (e.id = 'nope'))],
    ['a bad type', variant((e) => (e.type = 'Post.Viewed'))],
    ['version 0', variant((e) => (e.version = 0))],
    ['a fractional version', variant((e) => (e.version = 1.5))],
    ['an impossible date', variant((e) => (e.time = '2026-02-30T10:00:00.000Z'))],
    ['no source', variant((e) => delete e.source)],
    ['an empty aggregate id', variant((e) => (e.aggregate_id = ''))],
    ['a long aggregate id', variant((e) => (e.aggregate_id = 'x'.repeat(101)))],
    ['a payload that is an array', variant((e) => (e.payload = [1]))],
    ['a null payload', variant((e) => (e.payload = null))],
    ['a null trace', variant((e) => (e.trace = null))],
    ['a long traceparent', variant((e) => (e.trace = { traceparent: 'x'.repeat(201) }))],
  ])('refuses %s with the reason parseEnvelope gives', (_name, raw) => {
    agree(raw);
  });
});
