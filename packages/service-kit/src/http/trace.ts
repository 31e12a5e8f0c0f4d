import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import type { TraceContext } from '@mpb/contracts';
import { currentCarrier } from '@mpb/telemetry';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The W3C trace context a request arrived with, if it is well formed. */
export function incomingTrace(req: IncomingMessage): TraceContext {
  const traceparent = req.headers.traceparent;
  if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent)) return {};
  const tracestate = req.headers.tracestate;
  return typeof tracestate === 'string' && tracestate.length <= 512
    ? { traceparent, tracestate }
    : { traceparent };
}

/**
 * W3C trace context for the events a request causes: the request's own span (so consumers continue
 * from it), or what the request arrived with outside the kit's HTTP app.
 */
export function traceContextOf(req: Request): TraceContext {
  const carrier = currentCarrier();
  return carrier.traceparent ? carrier : incomingTrace(req);
}
