import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { channelSites } from './grpc-clients';
import { schemaProblems } from './k8s-schema';
import { grpcServiceProblems, ruleProblems } from './k8s-rules';
import { assemble, type Resource } from './kustomize';
import { ROOT } from './service-config';

// Every check of k8s.test.ts fails on a broken manifest: each test here breaks one thing in a copy
// of the assembled resources (or of a kustomization, or of a gRPC client's source) and expects the
// check to name it, while the unbroken original passes.

const original = assemble(path.join(ROOT, 'infra/k8s'));

// Loosely typed on purpose: the mutations write what the schemas forbid.
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A copy of the resources with `kind name` changed by `change`. */
function broken(kind: string, name: string, change: (r: Json) => void): Resource[] {
  const copy = structuredClone(original);
  const target = copy.find((r) => r.kind === kind && r.metadata.name === name);
  if (!target) throw new Error(`no ${kind} ${name} to break`);
  change(target);
  return copy;
}

const find = (resources: Resource[], kind: string, name: string) =>
  resources.find((r) => r.kind === kind && r.metadata.name === name)!;

const container = (deployment: Json) => deployment.spec.template.spec.containers[0];

describe('the API schema check', () => {
  it('passes the unbroken resources', () => {
    expect(original.flatMap(schemaProblems)).toEqual([]);
  });

  it('refuses a field of the wrong type', () => {
    const r = broken('Deployment', 'auth', (d) => (container(d).ports[0].containerPort = '3000'));
    expect(schemaProblems(find(r, 'Deployment', 'auth'))).toEqual([
      '/spec/template/spec/containers/0/ports/0/containerPort must be integer',
    ]);
  });

  it('refuses a field the schema does not declare, at any depth', () => {
    const r = broken('Deployment', 'posts', (d) => {
      d.spec.replica = 3;
      container(d).imagePullPolicyy = 'Always';
      container(d).livenessProbe.httpGet.paths = '/livez';
    });
    expect(schemaProblems(find(r, 'Deployment', 'posts')).sort()).toEqual([
      '/spec/replica is not a field of Deployment',
      '/spec/template/spec/containers/0/imagePullPolicyy is not a field of Deployment',
      '/spec/template/spec/containers/0/livenessProbe/httpGet/paths is not a field of Deployment',
    ]);
  });

  it('accepts any key of a map: labels, annotations, ConfigMap data', () => {
    const r = broken('Deployment', 'posts', (d) => {
      d.metadata.labels['app.kubernetes.io/part-of'] = 'mpb';
      d.spec.template.metadata.annotations['example.com/any~key'] = 'x';
    });
    const data = broken('ConfigMap', 'mpb-config', (m) => (m.data.ANY_NEW_KEY = 'x'));
    expect(schemaProblems(find(r, 'Deployment', 'posts'))).toEqual([]);
    expect(schemaProblems(find(data, 'ConfigMap', 'mpb-config'))).toEqual([]);
  });

  it('refuses a resource without a required field', () => {
    const r = broken('Deployment', 'comments', (d) => delete container(d).name);
    const s = broken('Service', 'comments', (svc) => delete svc.spec.ports[0].port);
    expect(schemaProblems(find(r, 'Deployment', 'comments'))).toEqual([
      '/spec/template/spec/containers/0 must have required property name',
    ]);
    expect(schemaProblems(find(s, 'Service', 'comments'))).toEqual([
      '/spec/ports/0 must have required property port',
    ]);
  });

  it('refuses a value outside an enum and a malformed quantity', () => {
    const r = broken('Service', 'gateway', (svc) => (svc.spec.type = 'LoadBalancers'));
    const q = broken('Deployment', 'metrics', (d) => (container(d).resources.limits.memory = '512 MB'));
    expect(schemaProblems(find(r, 'Service', 'gateway'))).toEqual([
      expect.stringMatching(/^\/spec\/type must be equal to one of the allowed values/),
    ]);
    const memory = '/spec/template/spec/containers/0/resources/limits/memory';
    const problems = schemaProblems(find(q, 'Deployment', 'metrics'));
    expect(problems).toContain(`${memory} must match format "quantity"`);
    expect(problems.filter((p) => !p.startsWith(`${memory} `))).toEqual([]);
  });

  it('refuses a kind at an API version that a current cluster does not serve', () => {
    const r = broken('HorizontalPodAutoscaler', 'auth', (h) => (h.apiVersion = 'autoscaling/v2beta2'));
    expect(schemaProblems(find(r, 'HorizontalPodAutoscaler', 'auth'))).toEqual([
      'no schema for autoscaling/v2beta2 HorizontalPodAutoscaler (not a kind the manifests may use)',
    ]);
  });
});

describe('the rules across resources', () => {
  it('pass the unbroken resources', () => {
    expect(ruleProblems(original)).toEqual([]);
  });

  it('refuse a probe on a port the container does not declare', () => {
    const r = broken('Deployment', 'auth', (d) => {
      container(d).readinessProbe.httpGet.port = 'htp';
      container(d).startupProbe.grpc.port = 50052;
    });
    expect(ruleProblems(r)).toEqual([
      'Deployment auth container auth: readinessProbe port htp is none of its container ports',
      'Deployment auth container auth: startupProbe port 50052 is none of its container ports',
    ]);
  });

  it('refuse a Deployment whose selector misses its own pods', () => {
    const r = broken('Deployment', 'metrics', (d) => (d.spec.selector.matchLabels.app = 'metric'));
    expect(ruleProblems(r)).toEqual([
      "Deployment metrics: its selector does not match its pod template's labels",
    ]);
  });

  it('refuse a Service that selects no pods, or targets a port they do not declare', () => {
    const none = broken('Service', 'gateway', (svc) => (svc.spec.selector.app = 'gateways'));
    const empty = broken('Service', 'gateway', (svc) => (svc.spec.selector = {}));
    const port = broken('Service', 'gateway', (svc) => (svc.spec.ports[0].targetPort = 8080));
    expect(ruleProblems(none)).toEqual(["Service gateway: its selector matches no Deployment's pods"]);
    expect(ruleProblems(empty)).toEqual(["Service gateway: its selector matches no Deployment's pods"]);
    expect(ruleProblems(port)).toEqual([
      "Service gateway: target port 8080 is none of Deployment gateway's container ports",
    ]);
  });

  it('refuse a PodDisruptionBudget or an HPA aimed at nothing, and an HPA on CPU without a CPU request', () => {
    const pdb = broken('PodDisruptionBudget', 'posts', (p) => (p.spec.selector.matchLabels.app = 'post'));
    const hpa = broken('HorizontalPodAutoscaler', 'posts', (h) => (h.spec.scaleTargetRef.name = 'post'));
    const cpu = broken('Deployment', 'posts', (d) => delete container(d).resources.requests.cpu);
    expect(ruleProblems(pdb)).toEqual([
      "PodDisruptionBudget posts: its selector matches no Deployment's pods",
    ]);
    expect(ruleProblems(hpa)).toEqual([
      'HorizontalPodAutoscaler posts: scales apps/v1 Deployment post, which is not here',
    ]);
    expect(ruleProblems(cpu)).toEqual([
      'HorizontalPodAutoscaler posts: Deployment posts container posts requests no cpu',
    ]);
  });

  it('refuse a ConfigMap reference to nothing, and a resource outside the created namespace', () => {
    const ref = broken(
      'Job',
      'auth-migrate',
      (j) => (container(j).envFrom[0].configMapRef.name = 'mpb-conf'),
    );
    const ns = broken('PodDisruptionBudget', 'auth', (p) => (p.metadata.namespace = 'default'));
    expect(ruleProblems(ref)).toEqual(['Job auth-migrate container migrate: ConfigMap mpb-conf is not here']);
    expect(ruleProblems(ns)).toEqual([
      'PodDisruptionBudget auth: namespace default is not created here',
      "PodDisruptionBudget auth: its selector matches no Deployment's pods",
    ]);
  });
});

describe('the gRPC balancing checks', () => {
  it('refuse a gRPC Service with a cluster IP, and an address no Service port answers', () => {
    const clusterIp = broken('Service', 'metrics', (svc) => delete svc.spec.clusterIP);
    const port = broken('ConfigMap', 'mpb-config', (m) => (m.data.POSTS_GRPC_ADDR = 'posts:50052'));
    const http = broken('ConfigMap', 'mpb-config', (m) => (m.data.AUTH_GRPC_ADDR = 'auth:3000'));
    expect(grpcServiceProblems(clusterIp)).toEqual([
      'mpb/METRICS_GRPC_ADDR=metrics:50051: Service metrics is not headless (clusterIP: None)',
    ]);
    expect(grpcServiceProblems(port)).toEqual([
      'mpb/POSTS_GRPC_ADDR=posts:50052: Service posts has no port 50052',
    ]);
    expect(grpcServiceProblems(http)).toEqual([
      'mpb/AUTH_GRPC_ADDR=auth:3000: Deployment auth has no port named grpc behind it',
    ]);
  });

  const client = (options: string, creds = 'credentials.createInsecure()') =>
    `import { credentials } from '@grpc/grpc-js';\nexport const c = new PostService(addr, ${creds}, ${options});\n`;
  const siteOf = (source: string) => channelSites(source, 'x.ts');

  it('accept a client whose service config puts round_robin first', () => {
    const ok = `{ 'grpc.keepalive_time_ms': 1, 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }), ...LEAN }`;
    expect(siteOf(client(ok))).toEqual([{ at: 'x.ts:2', roundRobin: true }]);
  });

  it('read the options from a shared const of the same file spread into the client options', () => {
    const shared = (policy: string, after = '') =>
      `const OPTIONS = { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ ${policy}: {} }] }) } as const;\n` +
      `new PostService(addr, credentials.createInsecure(), { ...OPTIONS${after} });\n`;
    expect(siteOf(shared('round_robin'))).toEqual([{ at: 'x.ts:2', roundRobin: true }]);
    expect(siteOf(shared('pick_first'))).toEqual([{ at: 'x.ts:2', roundRobin: false }]);
    const overridden = `, 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ pick_first: {} }] })`;
    expect(siteOf(shared('round_robin', overridden))).toEqual([{ at: 'x.ts:2', roundRobin: false }]);
  });

  it('refuse a client without it, with pick_first first, or with credentials made elsewhere', () => {
    const pickFirst = `{ 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ pick_first: {} }, { round_robin: {} }] }) }`;
    expect(siteOf(client(`{ 'grpc.keepalive_time_ms': 1 }`))).toEqual([{ at: 'x.ts:2', roundRobin: false }]);
    expect(siteOf(client(pickFirst))).toEqual([{ at: 'x.ts:2', roundRobin: false }]);
    expect(siteOf(client('options'))).toEqual([{ at: 'x.ts:2', roundRobin: false }]);
    const elsewhere = `const creds = credentials.createInsecure();\nnew PostService(addr, creds, {});\n`;
    expect(siteOf(elsewhere)).toEqual([{ at: 'x.ts:1', roundRobin: false }]);
  });
});

describe('the kustomize assembly', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mpb-kustomize-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (files: Record<string, string>) => {
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  };

  it("sets the namespace as kustomize does: over a resource's own, on the Namespace's name, not on cluster-scoped kinds", () => {
    write({
      'kustomization.yaml': 'namespace: mpb\nresources:\n  - r.yaml\n',
      'r.yaml':
        'apiVersion: v1\nkind: Namespace\nmetadata: { name: other }\n---\n' +
        'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: elsewhere }\n---\n\n---\n' +
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: { name: cr }\n',
    });
    expect(assemble(dir).map((r) => r.metadata)).toEqual([
      { name: 'mpb' },
      { name: 'c', namespace: 'mpb' },
      { name: 'cr' },
    ]);
  });

  it('refuses what it does not implement, and what kustomize refuses', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { 'kustomization.yaml': 'resources: [r.yaml]\ncommonLabels: { a: b }\n' },
        /field commonLabels is not supported/,
      ],
      [{ 'kustomization.yaml': 'resources: [../r.yaml]\n' }, /outside the kustomization's directory/],
      [{ 'kustomization.yaml': 'resources: [https://example.com/r.yaml]\n' }, /remote resource/],
      [
        {
          'kustomization.yaml': 'namespace: x\nresources: [r.yaml]\n',
          'r.yaml': 'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: { name: rb }\n',
        },
        /kind RoleBinding is neither known namespaced nor cluster-scoped/,
      ],
      [
        {
          'kustomization.yaml': 'resources: [r.yaml]\n',
          'r.yaml':
            'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n',
        },
        /ConfigMap c is defined twice/,
      ],
      [
        { 'kustomization.yaml': 'resources: [r.yaml]\n', 'r.yaml': 'kind: ConfigMap\n' },
        /without apiVersion and kind/,
      ],
    ];
    for (const [files, error] of cases) {
      rmSync(dir, { recursive: true, force: true });
      dir = mkdtempSync(path.join(tmpdir(), 'mpb-kustomize-'));
      write(files);
      expect(() => assemble(dir)).toThrow(error);
    }
  });
});
