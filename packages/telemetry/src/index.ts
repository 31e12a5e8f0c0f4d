/**
 * Tracing for every service. One W3C trace context travels from the gateway through the services'
 * HTTP handlers, their gRPC calls and the events they write (the envelope's `trace`) to the
 * consumers that handle those events, so every log line in a request carries its trace id.
 *
 * With an OTLP endpoint configured, spans are recorded and exported. Without one, tracing is off:
 * nothing is recorded, but each hop still gets a span id of its own (a non-recording span) and
 * hands the trace on, which costs a couple of random ids per request instead of a span's bookkeeping.
 */
import { randomFillSync } from 'node:crypto';
import {
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';

export { SpanKind, type Context, type Span } from '@opentelemetry/api';
export { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';

/** W3C trace context as it travels in HTTP headers, gRPC metadata and the event envelope. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

export interface TracingOptions {
  service: string;
  /** OTLP/HTTP base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `<endpoint>/v1/traces`. */
  endpoint?: string;
  /** Tests pass an exporter to read spans back; spans are then exported one by one. */
  exporter?: SpanExporter;
}

let provider: NodeTracerProvider | undefined;
let initialized = false;

/**
 * Registers the process-wide context manager (AsyncLocalStorage) and W3C propagator, and, when an
 * endpoint or exporter is given, the recording tracer provider. The first call wins: a process is
 * one service.
 */
export function initTracing(o: TracingOptions): void {
  if (initialized) return;
  initialized = true;
  const processors: SpanProcessor[] = [];
  if (o.exporter) processors.push(new SimpleSpanProcessor(o.exporter));
  const endpoint = o.endpoint?.trim();
  if (endpoint) {
    const url = `${endpoint.replace(/\/+$/, '')}/v1/traces`;
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url }), { maxQueueSize: 4096 }));
  }
  if (processors.length === 0) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    return;
  }
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.service }),
    spanProcessors: processors,
  });
  provider.register();
}

/** Whether spans are recorded and exported (an endpoint or exporter was configured). */
export const isRecording = (): boolean => provider !== undefined;

/** Exports what is still queued; part of a service's shutdown. */
export async function shutdownTracing(): Promise<void> {
  await provider?.shutdown();
}

const ids = Buffer.alloc(24);
/** A trace id and a span id for a non-recording span (never all zeros: the chance is 2^-64). */
function randomIds(): { traceId: string; spanId: string } {
  randomFillSync(ids);
  return { traceId: ids.toString('hex', 0, 16), spanId: ids.toString('hex', 16, 24) };
}

const tracer = () => trace.getTracer('mpb');

/** The context a carrier names, or none: a malformed traceparent starts a new trace. */
export function contextFrom(carrier: TraceCarrier | undefined): Context {
  if (!carrier?.traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** The active span as a carrier, to put on an outgoing request, gRPC call or event. */
export function currentCarrier(ctx: Context = context.active()): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** Starts a span as a child of `parent` (the active context when omitted); the caller ends it. */
export function startSpan(
  name: string,
  o: { kind?: SpanKind; parent?: Context; attributes?: Attributes } = {},
): { span: Span; ctx: Context } {
  const parent = o.parent ?? context.active();
  let span: Span;
  if (provider) {
    span = tracer().startSpan(name, { kind: o.kind ?? SpanKind.INTERNAL, attributes: o.attributes }, parent);
  } else {
    // Tracing off: the trace goes on (or starts) with a span id of this hop, and nothing is recorded.
    const from = trace.getSpanContext(parent);
    const fresh = randomIds();
    const continues = from !== undefined && trace.isSpanContextValid(from);
    span = trace.wrapSpanContext({
      traceId: continues ? from.traceId : fresh.traceId,
      spanId: fresh.spanId,
      traceFlags: continues ? from.traceFlags : TraceFlags.NONE,
    });
  }
  return { span, ctx: trace.setSpan(parent, span) };
}

/** Runs `fn` inside a new span, recording a thrown error on it; the span ends when `fn` settles. */
export async function inSpan<T>(
  name: string,
  o: { kind?: SpanKind; parent?: Context; attributes?: Attributes },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const { span, ctx } = startSpan(name, o);
  try {
    return await context.with(ctx, () => fn(span));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

export function failSpan(span: Span, err: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** Runs `fn` with `ctx` active, so spans and log lines inside it belong to that trace. */
export const withContext = <T>(ctx: Context, fn: () => T): T => context.with(ctx, fn);

const REQUEST_ID = createContextKey('mpb.request_id');

/** A context that also names the request it serves, so every log line inside it can say which. */
export const withRequestId = (ctx: Context, requestId: string): Context =>
  ctx.setValue(REQUEST_ID, requestId);

export interface LogCorrelation {
  request_id?: string;
  trace_id?: string;
  span_id?: string;
}

/** The request and trace ids of the active context, for log lines; empty outside any. */
export function activeTraceIds(): LogCorrelation {
  const active = context.active();
  const out: LogCorrelation = {};
  const requestId = active.getValue(REQUEST_ID);
  if (typeof requestId === 'string') out.request_id = requestId;
  const sc = trace.getSpan(active)?.spanContext();
  if (sc && trace.isSpanContextValid(sc)) {
    out.trace_id = sc.traceId;
    out.span_id = sc.spanId;
  }
  return out;
}

/** The trace id a carrier names, or undefined. */
export function traceIdOf(carrier: TraceCarrier | undefined): string | undefined {
  const sc = trace.getSpanContext(contextFrom(carrier));
  return sc && trace.isSpanContextValid(sc) ? sc.traceId : undefined;
}
