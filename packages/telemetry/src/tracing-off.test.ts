import { activeTraceIds, contextFrom, currentCarrier, initTracing, inSpan, isRecording } from './index';

// No endpoint and no exporter: how every service runs unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
initTracing({ service: 'telemetry-off' });

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('tracing without an endpoint', () => {
  it('records nothing', () => {
    expect(isRecording()).toBe(false);
  });

  it('still continues an incoming trace, with a span id of its own, across awaits', async () => {
    const seen = await inSpan(
      'GET /api/posts/:id',
      { parent: contextFrom({ traceparent: PARENT }) },
      async () => {
        await new Promise((r) => setTimeout(r, 5));
        return { ids: activeTraceIds(), carrier: currentCarrier() };
      },
    );
    expect(seen.ids.trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(seen.ids.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(seen.ids.span_id).not.toBe('00f067aa0ba902b7');
    // Handed on as this hop's span, keeping the caller's sampling decision.
    expect(seen.carrier.traceparent).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${seen.ids.span_id}-01`);
  });

  it('starts a new trace for each request that brings none', async () => {
    const a = await inSpan('a', {}, async () => activeTraceIds());
    const b = await inSpan('b', {}, async () => currentCarrier());
    expect(a.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(b.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(b.traceparent).not.toContain(a.trace_id);
  });
});
