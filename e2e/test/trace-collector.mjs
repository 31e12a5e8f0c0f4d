// A stand-in for an OpenTelemetry collector: receives OTLP/HTTP JSON trace exports from the e2e
// platform's services and answers `GET /spans?trace_id=` with what arrived, so a test can follow
// one trace across processes. Real exporters talk to it exactly as they would to a collector.
import http from 'node:http';

const MAX_SPANS = 50_000;
const MAX_BODY_BYTES = 8 * 1024 * 1024;

const attribute = (attrs, key) => attrs?.find((a) => a.key === key)?.value?.stringValue;

export async function startTraceCollector() {
  const spans = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://collector');
    if (req.method === 'POST' && url.pathname === '/v1/traces') {
      const chunks = [];
      let size = 0;
      req.on('data', (c) => {
        size += c.length;
        if (size <= MAX_BODY_BYTES) chunks.push(c);
      });
      req.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          for (const rs of body.resourceSpans ?? []) {
            const service = attribute(rs.resource?.attributes, 'service.name');
            for (const ss of rs.scopeSpans ?? []) {
              for (const s of ss.spans ?? []) {
                spans.push({
                  service,
                  name: s.name,
                  kind: s.kind,
                  traceId: s.traceId,
                  spanId: s.spanId,
                  parentSpanId: s.parentSpanId || undefined,
                });
              }
            }
          }
          if (spans.length > MAX_SPANS) spans.splice(0, spans.length - MAX_SPANS);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch {
          res.writeHead(400).end();
        }
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/spans') {
      const traceId = url.searchParams.get('trace_id');
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(spans.filter((s) => s.traceId === traceId)));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
