import type { IncomingMessage } from 'node:http';
import type { Metadata } from '@grpc/grpc-js';
import type { Request } from 'express';
import type { TraceContext } from '@mpb/contracts';
import { currentCarrier } from '@mpb/telemetry';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
/** A longer tracestate is dropped (the traceparent is kept): W3C lets a hop truncate it. */
const MAX_TRACESTATE_LENGTH = 512;

/**
 * The one reading of an incoming W3C trace context, from HTTP headers or gRPC metadata alike: a
 * well-formed `traceparent` (anything else starts a new trace), and `tracestate` with it when it is
 * text of 1 to 512 characters (empty, as an unset proto3 string arrives, it is none).
 */
export function parseTraceContext(traceparent: unknown, tracestate: unknown): TraceContext {
  if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent)) return {};
  return typeof tracestate === 'string' && tracestate.length > 0 && tracestate.length <= MAX_TRACESTATE_LENGTH
    ? { traceparent, tracestate }
    : { traceparent };
}

/** The trace context an HTTP request arrived with. */
export const incomingTrace = (req: IncomingMessage): TraceContext =>
  parseTraceContext(req.headers.traceparent, req.headers.tracestate);

/** The trace context a gRPC call arrived with (its metadata). */
export const incomingCallTrace = (call: { metadata: Metadata }): TraceContext =>
  parseTraceContext(call.metadata.get('traceparent')[0], call.metadata.get('tracestate')[0]);

/**
 * W3C trace context for the events a request causes: the request's own span (the kit's HTTP app
 * runs every route inside one), so consumers continue from it; what the request arrived with
 * outside such a span.
 */
export function traceContextOf(req: Request): TraceContext {
  const carrier = currentCarrier();
  return carrier.traceparent ? carrier : incomingTrace(req);
}

/** The same for a gRPC call: the call's own span (GrpcServer runs every handler inside one). */
export function traceContextOfCall(call: { metadata: Metadata }): TraceContext {
  const carrier = currentCarrier();
  return carrier.traceparent ? carrier : incomingCallTrace(call);
}

/** The W3C trace context of the span running now (empty outside one), for a call that carries it itself. */
export const currentTraceContext = (): TraceContext => currentCarrier();
