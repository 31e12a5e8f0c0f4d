import type { IncomingMessage } from 'node:http';
import { Metadata } from '@grpc/grpc-js';
import { incomingCallTrace, incomingTrace, parseTraceContext } from '../src';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('parseTraceContext, the one reading of incoming trace context', () => {
  it('keeps a well-formed traceparent and a tracestate of at most 512 characters', () => {
    expect(parseTraceContext(TRACEPARENT, 'a=1')).toEqual({ traceparent: TRACEPARENT, tracestate: 'a=1' });
    expect(parseTraceContext(TRACEPARENT, 'x'.repeat(512)).tracestate).toHaveLength(512);
    expect(parseTraceContext(TRACEPARENT, 'x'.repeat(513))).toEqual({ traceparent: TRACEPARENT });
    expect(parseTraceContext(TRACEPARENT, undefined)).toEqual({ traceparent: TRACEPARENT });
    // An empty tracestate (a proto3 string left unset) is none: events refuse an empty one.
    expect(parseTraceContext(TRACEPARENT, '')).toEqual({ traceparent: TRACEPARENT });
  });

  it.each([
    'not-a-traceparent',
    TRACEPARENT.toUpperCase(),
    `${TRACEPARENT}-extra`,
    ' ' + TRACEPARENT,
    undefined,
    ['a', 'b'],
  ])('drops %p, and its tracestate with it: a new trace starts', (traceparent) => {
    expect(parseTraceContext(traceparent, 'a=1')).toEqual({});
  });

  it('reads HTTP headers and gRPC metadata the same way', () => {
    const req = { headers: { traceparent: TRACEPARENT, tracestate: 'a=1' } } as unknown as IncomingMessage;
    const metadata = new Metadata();
    metadata.set('traceparent', TRACEPARENT);
    metadata.set('tracestate', 'a=1');
    expect(incomingCallTrace({ metadata })).toEqual(incomingTrace(req));
    const bad = new Metadata();
    bad.set('traceparent', 'nope');
    expect(incomingCallTrace({ metadata: bad })).toEqual({});
  });
});
