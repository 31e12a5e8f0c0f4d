import { SERVICE_OF } from './load';
import { faultWorld, underLoad } from './scenario';
import { control, eventually, groupLag } from './support';
import { badOutcomes, report, verifyConsistency, type FaultWindow } from './verify';

describe('fault: a rolling restart under load (SIGTERM to each service in turn)', () => {
  const world = faultWorld();

  it('finishes in-flight requests, exits cleanly, commits its consumers and resets no connection', async () => {
    const names = Object.keys(JSON.parse(process.env.FAULTS_SERVICE_PORTS!) as Record<string, unknown>);
    const sigterms: Array<{ service: string; at: number }> = [];
    const exits: Record<string, unknown> = {};
    // From each SIGTERM until the replacement answered its readiness probe (start returns then).
    const down: FaultWindow[] = [];
    const r = await underLoad(world(), async () => {
      const windows: FaultWindow[] = [];
      for (const service of names) {
        const at = Date.now();
        sigterms.push({ service, at });
        const k = await control('POST /service/kill', { name: service, signal: 'SIGTERM' });
        exits[service] = { exitCode: k.exitCode, signal: k.signal };
        await control('POST /service/start', { name: service });
        down.push({ from: at, to: Date.now(), service });
        windows.push({ from: at, to: Date.now(), service });
      }
      return windows;
    });
    // One gateway replica: between its SIGTERM and its replacement listening, nothing accepts
    // connections, so those requests are refused (a load balancer over two replicas would hide it).
    const gatewayDown = down.filter((w) => w.service === 'gateway');
    const refused = r.load.outcomes.filter((o) => o.detail === 'refused');
    report('rolling', r.load.outcomes, {
      recoveredMs: r.recoveredMs,
      exits,
      gatewayDownMs: gatewayDown.map((w) => w.to - w.from),
      refused: refused.length,
    });

    // Each service shut down by itself on SIGTERM (exit code 0), not killed after the grace period.
    expect(exits).toEqual(Object.fromEntries(names.map((n) => [n, { exitCode: 0, signal: null }])));
    // Requests already inside a service when it got SIGTERM were answered properly.
    const cut = sigterms.flatMap(({ service, at }) =>
      r.load.outcomes
        .filter((o) => (service === 'gateway' || SERVICE_OF[o.op] === service) && o.t0 < at - 50 && o.t1 > at)
        .filter((o) => o.kind !== 'ok')
        .map((o) => `${service}: ${o.op} ${o.status} ${o.detail}`),
    );
    expect(cut).toEqual([]);
    // No reset and no hang: every connection the gateway accepted got its answer. A refused connection
    // only while no gateway process listened: after the gateway's SIGTERM and before its replacement
    // was ready (not while another service restarted, nor after the gateway was back).
    expect(badOutcomes(r.load.outcomes, gatewayDown)).toEqual([]);
    // Nor on the gateway's side: it answers 502 when a service reset the connection (503 when nothing
    // listened), and a graceful shutdown must not reset a connection the gateway is using.
    expect(r.load.outcomes.filter((o) => o.status === 502).map((o) => `${o.op} ${o.detail}`)).toEqual([]);
    expect(r.freshStatus).toEqual([200, 201]);
    await verifyConsistency(world(), r.load, r.windows);
    // The metrics consumers committed everything they folded.
    let lag = -1;
    await eventually(async () => (lag = await groupLag('metrics-counters', 'blog.metrics.v1')) === 0, 20000);
    expect(lag).toBe(0);
  }, 150000);
});
