import {
  activeTraceIds,
  contextFrom,
  currentCarrier,
  initTracing,
  inSpan,
  InMemorySpanExporter,
  SpanKind,
  traceIdOf,
  withContext,
  withRequestId,
} from './index';

const exporter = new InMemorySpanExporter();
initTracing({ service: 'telemetry-test', exporter });

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

beforeEach(() => exporter.reset());

describe('tracing', () => {
  it('continues the trace a carrier names, as a child of its span', async () => {
    await inSpan(
      'GET /api/posts/:id',
      { kind: SpanKind.SERVER, parent: contextFrom({ traceparent: PARENT }) },
      async () => {
        expect(activeTraceIds().trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      },
    );
    const span = exporter.getFinishedSpans()[0]!;
    expect(span.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span.resource.attributes['service.name']).toBe('telemetry-test');
  });

  it('hands the active span on as a traceparent, across awaits', async () => {
    let carrier = {};
    let spanId = '';
    await inSpan('handler', {}, async (span) => {
      spanId = span.spanContext().spanId;
      await new Promise((r) => setTimeout(r, 5));
      carrier = currentCarrier();
    });
    expect(carrier).toEqual({
      traceparent: expect.stringMatching(new RegExp(`^00-[0-9a-f]{32}-${spanId}-01$`)),
    });
  });

  it('starts a new trace for a missing or malformed traceparent', async () => {
    for (const traceparent of [
      undefined,
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    ]) {
      await inSpan('x', { parent: contextFrom({ traceparent }) }, async () => undefined);
    }
    const ids = exporter.getFinishedSpans().map((s) => s.spanContext().traceId);
    expect(new Set(ids).size).toBe(3);
    expect(exporter.getFinishedSpans().every((s) => s.parentSpanContext === undefined)).toBe(true);
  });

  it('records a thrown error on the span and rethrows it', async () => {
    await expect(
      inSpan('failing', {}, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(exporter.getFinishedSpans()[0]!.status).toMatchObject({ code: 2, message: 'boom' });
  });

  it('has no trace ids outside a span, and reads one from a carrier', () => {
    expect(activeTraceIds()).toEqual({});
    expect(withContext(contextFrom({ traceparent: PARENT }), () => activeTraceIds())).toEqual({
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
    });
    const ctx = withRequestId(contextFrom({ traceparent: PARENT }), 'req-1');
    expect(withContext(ctx, () => activeTraceIds())).toMatchObject({ request_id: 'req-1' });
    expect(traceIdOf({ traceparent: PARENT })).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf({ traceparent: 'nope' })).toBeUndefined();
  });
});
