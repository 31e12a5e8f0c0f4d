import { randomBytes } from 'node:crypto';
import { api, newUser, type TestUser } from './client';

interface CollectedSpan {
  service: string;
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

const SPAN_KIND = { SERVER: 2, CONSUMER: 5 } as const;

function collectorUrl(): string {
  const url = process.env.E2E_TRACE_COLLECTOR_URL;
  if (!url) throw new Error('no trace collector: this test needs the platform the e2e global setup starts');
  return url;
}

async function spansOf(traceId: string): Promise<CollectedSpan[]> {
  const res = await fetch(`${collectorUrl()}/spans?trace_id=${traceId}`);
  return (await res.json()) as CollectedSpan[];
}

/** Waits until the trace holds a span matching each expectation; returns the trace's spans. */
async function waitForSpans(
  traceId: string,
  expected: Array<Partial<CollectedSpan>>,
  timeoutMs = 15_000,
): Promise<CollectedSpan[]> {
  const deadline = Date.now() + timeoutMs;
  let spans: CollectedSpan[] = [];
  const missing = () =>
    expected.filter(
      (e) => !spans.some((s) => Object.entries(e).every(([k, v]) => s[k as keyof CollectedSpan] === v)),
    );
  while (Date.now() < deadline) {
    spans = await spansOf(traceId);
    if (missing().length === 0) return spans;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `trace ${traceId} lacks ${JSON.stringify(missing())}; it has ${JSON.stringify(spans.map((s) => [s.service, s.name]))}`,
  );
}

/** A traceparent the client starts: the trace id is ours to follow. */
function clientTrace(): { traceId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

describe('one trace from a gateway request to the consumers of its events', () => {
  let author: TestUser;
  let postId: number;

  beforeAll(async () => {
    author = await newUser();
    const created = await api('POST', '/api/posts', {
      token: author.token,
      body: { title: 'Traced post', description: 'followed from the gateway to the consumers' },
    });
    expect(created.status).toBe(201);
    postId = created.body.id;
  });

  it('follows a read through the gateway, posts and its gRPC call to metrics', async () => {
    const { traceId, traceparent } = clientTrace();
    const res = await api('GET', `/api/posts/${postId}`, { headers: { traceparent } });
    expect(res.status).toBe(200);
    const spans = await waitForSpans(traceId, [
      { service: 'gateway', kind: SPAN_KIND.SERVER },
      { service: 'posts', kind: SPAN_KIND.SERVER },
      { service: 'metrics', name: 'blog.metrics.v1.MetricsService/RecordViews' },
    ]);
    const byService = (name: string) => spans.find((s) => s.service === name && s.kind === SPAN_KIND.SERVER)!;
    // Each hop is a child of the one before it, not merely in the same trace.
    expect(byService('posts').parentSpanId).toBe(byService('gateway').spanId);
    const recordView = spans.find((s) => s.service === 'metrics')!;
    expect(spans.some((s) => s.spanId === recordView.parentSpanId && s.service === 'posts')).toBe(true);
  });

  it('follows a delete through the outbox and Kafka to every consumer of post.deleted', async () => {
    const { traceId, traceparent } = clientTrace();
    const res = await api('DELETE', `/api/posts/${postId}`, {
      token: author.token,
      headers: { traceparent },
    });
    expect(res.status).toBe(204);
    const spans = await waitForSpans(traceId, [
      { service: 'gateway', kind: SPAN_KIND.SERVER },
      { service: 'posts', kind: SPAN_KIND.SERVER },
      { service: 'comments', name: 'consume post.deleted', kind: SPAN_KIND.CONSUMER },
      { service: 'metrics', name: 'consume post.deleted', kind: SPAN_KIND.CONSUMER },
    ]);
    const posts = spans.find((s) => s.service === 'posts' && s.kind === SPAN_KIND.SERVER)!;
    const consumers = spans.filter((s) => s.kind === SPAN_KIND.CONSUMER);
    // The event was written inside the request's span: every consumer continues from it.
    for (const c of consumers) expect(spans.some((s) => s.spanId === c.parentSpanId)).toBe(true);
    expect(consumers.every((c) => c.traceId === posts.traceId)).toBe(true);
  });

  it('answers every request with its trace id, so a client can report it', async () => {
    const { traceId, traceparent } = clientTrace();
    const res = await api('GET', `/api/posts/${postId}`, { headers: { traceparent } });
    expect(res.headers.get('x-trace-id')).toBe(traceId);
    const fresh = await api('GET', '/api/posts');
    expect(fresh.headers.get('x-trace-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh.headers.get('x-trace-id')).not.toBe(traceId);
  });
});
