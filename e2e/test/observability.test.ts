import { api, newUser, serviceUrl, servicePorts, type ServiceName } from './client';

/** The sample lines of one metric family in a Prometheus text exposition. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

async function scrape(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

const valueOf = (line: string): number => Number(line.slice(line.lastIndexOf(' ') + 1));

describe('Prometheus metrics on every service', () => {
  beforeAll(async () => {
    // Traffic that touches every kind of metric: HTTP through each service, a gRPC call, events.
    const user = await newUser();
    const post = await api('POST', '/api/posts', {
      token: user.token,
      body: { title: 'Measured post', description: 'read, liked and commented to move the counters' },
    });
    expect(post.status).toBe(201);
    expect((await api('GET', `/api/posts/${post.body.id}`)).status).toBe(200);
    expect((await api('POST', `/api/posts/${post.body.id}/like`, { token: user.token })).status).toBe(200);
    const comment = await api('POST', `/api/posts/${post.body.id}/comments`, {
      token: user.token,
      body: { text: 'measured' },
    });
    expect(comment.status).toBe(201);
    expect((await api('GET', `/api/posts/${post.body.id}/attachments`)).status).toBe(200);
  });

  const services = ['auth', 'posts', 'comments', 'metrics', 'attachments'] as const;

  it.each(services)('%s exposes HTTP rate, errors and duration by route and status', async (name) => {
    const text = await scrape(serviceUrl(name));
    const http = samples(text, 'http_request_duration_seconds_count');
    expect(http.length).toBeGreaterThan(0);
    expect(http.some((l) => /route="\/api\//.test(l) && /status="2\d\d"/.test(l))).toBe(true);
    expect(text).toContain(`service="${name}"`);
  });

  it('the gateway exposes its requests and the upstream calls behind them, on its metrics port', async () => {
    const { metrics } = servicePorts().gateway as { metrics?: number };
    const text = await scrape(`http://127.0.0.1:${metrics}`);
    expect(samples(text, 'http_request_duration_seconds_count').length).toBeGreaterThan(0);
    expect(text).toContain('service="gateway"');
    expect(text).toMatch(/upstream="posts"/);
  });

  it.each(['auth', 'posts', 'comments', 'metrics', 'attachments'] as ServiceName[])(
    '%s exposes gRPC server duration by method and code',
    async (name) => {
      const text = await scrape(serviceUrl(name));
      expect(text).toContain('# TYPE grpc_server_handling_seconds histogram');
      expect(servicePorts()[name]?.grpc).toBeGreaterThan(0);
    },
  );

  it('counts the gRPC calls metrics served to posts', async () => {
    const text = await scrape(serviceUrl('metrics'));
    const recordViews = samples(text, 'grpc_server_handling_seconds_count').find((l) =>
      l.includes('method="blog.metrics.v1.MetricsService/RecordViews",code="OK"'),
    );
    expect(recordViews && valueOf(recordViews)).toBeGreaterThan(0);
  });

  it.each(['comments', 'metrics', 'attachments'] as ServiceName[])(
    "%s reports each consumer group's lag",
    async (name) => {
      const lag = samples(await scrape(serviceUrl(name)), 'mpb_kafka_consumer_lag');
      expect(lag.length).toBeGreaterThan(0);
      for (const line of lag) expect(valueOf(line)).toBeGreaterThanOrEqual(0);
    },
  );

  it.each(['auth', 'posts', 'comments'] as ServiceName[])(
    '%s reports its outbox backlog and the age of its oldest row',
    async (name) => {
      const text = await scrape(serviceUrl(name));
      expect(samples(text, 'mpb_outbox_backlog')).toEqual([expect.stringContaining('table="outbox"')]);
      const age = samples(text, 'mpb_outbox_oldest_age_seconds');
      expect(age).toHaveLength(1);
      expect(valueOf(age[0]!)).toBeGreaterThanOrEqual(0);
    },
  );

  it('metrics reports the drift between Redis and PostgreSQL counters', async () => {
    const text = await scrape(serviceUrl('metrics'));
    const drift = samples(text, 'mpb_metrics_counter_drift');
    expect(drift.map((l) => l.slice(0, l.lastIndexOf(' ')))).toEqual(
      expect.arrayContaining([
        expect.stringContaining('counter="views"'),
        expect.stringContaining('counter="likes"'),
      ]),
    );
    expect(samples(text, 'mpb_metrics_counter_drift_posts')).toHaveLength(1);
  });
});
