import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { parse } from 'yaml';
import { composeEnv, readCompose } from './compose-file';
import { repositoryChannelSites } from './grpc-clients';
import { schemaProblems } from './k8s-schema';
import {
  grpcServiceProblems,
  namespaceProblems,
  probeProblems,
  referenceProblems,
  selectorProblems,
} from './k8s-rules';
import { assemble, ofKind } from './kustomize';
import { checkEnv, ROOT, SERVICES } from './service-config';

// infra/k8s as `kubectl apply -k infra/k8s` would send it: every resource against the Kubernetes
// API schema of its kind, the rules across resources that schemas cannot express, and each
// service's Deployment against its own config and the compose file.

const K8S = path.join(ROOT, 'infra/k8s');
const resources = assemble(K8S);
const BACKENDS = SERVICES.filter((s) => s !== 'gateway');

const configMap = resources.filter(ofKind(ConfigMap.is)).find((m) => m.metadata?.name === 'mpb-config')!;
const deploymentOf = (name: string) =>
  resources.filter(ofKind(Deployment.is)).find((d) => d.metadata?.name === name);
const containerOf = (name: string) => deploymentOf(name)?.spec?.template.spec?.containers[0];
const serviceOf = (name: string) =>
  resources.filter(ofKind(Service.is)).find((s) => s.metadata?.name === name);

/** The environment a service's container sees: the shared ConfigMap, then its own entries. */
function envOf(service: string): { env: Record<string, string>; own: string[] } {
  const env: Record<string, string> = { ...configMap.data };
  const own: string[] = [];
  for (const e of containerOf(service)?.env ?? []) {
    own.push(e.name);
    // A Secret's value is the operator's; a well-formed one stands in for it.
    env[e.name] =
      e.value ?? (e.valueFrom?.secretKeyRef ? `postgres://user:secret@db:5432/mpb_${service}` : '');
  }
  return { env, own };
}

describe('infra/k8s, assembled as kubectl apply -k assembles it', () => {
  it('lists every manifest in the kustomization', () => {
    const kustomization = parse(readFileSync(path.join(K8S, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
    };
    const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it('creates the mpb namespace and puts everything else in it', () => {
    expect(namespaceProblems(resources)).toEqual([]);
    for (const r of resources) {
      expect({ r: `${r.kind} ${r.metadata.name}`, ns: r.metadata.namespace }).toEqual({
        r: `${r.kind} ${r.metadata.name}`,
        ns: r.kind === 'Namespace' ? undefined : 'mpb',
      });
    }
  });

  it.each(resources.map((r) => [`${r.kind} ${r.metadata.name}`, r] as const))(
    'has a %s valid against the Kubernetes API schema, with no undeclared field',
    (_name, resource) => {
      expect(schemaProblems(resource)).toEqual([]);
    },
  );

  it('probes only ports that the containers declare', () => {
    expect(probeProblems(resources)).toEqual([]);
  });

  it('selects with every Deployment, Service, PodDisruptionBudget and HPA the pods meant, on declared ports', () => {
    expect(selectorProblems(resources)).toEqual([]);
  });

  it('loads only ConfigMaps that it creates', () => {
    expect(referenceProblems(resources)).toEqual([]);
  });

  it.each(SERVICES)(
    'deploys %s with probes on the kit paths and an environment its config accepts',
    (service) => {
      const container = containerOf(service);
      expect(container).toBeDefined();
      expect(container!.livenessProbe?.httpGet?.path).toBe('/livez');
      expect(container!.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(container!.resources?.requests).toBeDefined();
      expect(container!.resources?.limits).toBeDefined();
      const http = container!.ports?.find((p) => p.name === 'http');
      expect(String(http?.containerPort)).toBe(configMap.data!.HTTP_PORT);
      const grpc = container!.ports?.find((p) => p.name === 'grpc');
      if (grpc) expect(String(grpc.containerPort)).toBe(configMap.data!.GRPC_PORT);
      // The ConfigMap is shared by every service; only the container's own entries must be known keys.
      const { env, own } = envOf(service);
      checkEnv(service, env, own);
      expect(serviceOf(service)).toBeDefined();
      expect(resources.some((r) => r.kind === 'PodDisruptionBudget' && r.metadata.name === service)).toBe(
        true,
      );
      expect(resources.some((r) => r.kind === 'HorizontalPodAutoscaler' && r.metadata.name === service)).toBe(
        true,
      );
    },
  );

  it.each(SERVICES)(
    'runs %s from the image compose builds, with the ports and peer addresses compose gives it',
    (service) => {
      const compose = readCompose();
      const repository = (image: string | undefined) => image?.replace(/:[^:/]+$/, '');
      expect(repository(containerOf(service)?.image)).toBe(repository(compose.services[service]?.image));
      const fromCompose = composeEnv(compose, service);
      const { env } = envOf(service);
      // Ports, and every address compose points at another of the services, must be the same here.
      const peers = new RegExp(`^(https?://)?(${SERVICES.join('|')}):\\d+$`);
      const shared = Object.keys(fromCompose).filter((k) => /_PORT$/.test(k) || peers.test(fromCompose[k]!));
      expect(shared).toEqual(expect.arrayContaining(['HTTP_PORT']));
      expect(Object.fromEntries(shared.map((k) => [k, env[k]]))).toEqual(
        Object.fromEntries(shared.map((k) => [k, fromCompose[k]])),
      );
    },
  );

  it("gives posts the gateway's TRUST_PROXY, so readers' addresses are found as the gateway finds them", () => {
    expect(envOf('posts').env.GATEWAY_TRUST_PROXY).toBeDefined();
    expect(envOf('posts').env.GATEWAY_TRUST_PROXY).toBe(envOf('gateway').env.TRUST_PROXY);
  });

  it.each(BACKENDS)('gives %s a headless Service, so callers balance over its pods themselves', (service) => {
    // One ClusterIP would give grpc-js (and the gateway's keep-alive pool) a single address.
    expect(serviceOf(service)?.spec?.clusterIP).toBe('None');
    expect(serviceOf(service)?.spec?.selector).toEqual({ app: service });
  });

  it.each(BACKENDS)(
    'migrates %s with a Job running its migrate entry point, from the same image',
    (service) => {
      const job = resources.filter(ofKind(Job.is)).find((j) => j.metadata?.name === `${service}-migrate`);
      const container = job?.spec?.template.spec?.containers[0];
      expect(container?.command).toEqual(['node', 'dist/src/migrate.js']);
      expect(container?.image).toBe(containerOf(service)?.image);
      expect(existsSync(path.join(ROOT, 'services', service, 'src/migrate.ts'))).toBe(true);
    },
  );

  it('trusts no X-Forwarded-For behind a plain LoadBalancer, and keeps the client address', () => {
    // A layer-4 load balancer adds no forwarding header: a trusted one would come from the client,
    // which could then pick its own rate-limit bucket. Without SNAT the pod sees the real address.
    const service = serviceOf('gateway')!;
    const proxies = resources.filter((r) => r.kind === 'Ingress' || r.kind === 'Gateway');
    const trust = containerOf('gateway')?.env?.find((e) => e.name === 'TRUST_PROXY')?.value;
    if (service.spec?.type === 'LoadBalancer' && proxies.length === 0) {
      expect(trust ?? 'false').toBe('false');
      expect(service.spec.externalTrafficPolicy).toBe('Local');
    }
  });
});

describe('gRPC between replicas in Kubernetes', () => {
  it('dials every gRPC address through a headless Service that reaches the grpc port of its pods', () => {
    expect(grpcServiceProblems(resources)).toEqual([]);
    // Not vacuous: the addresses the services dial are there to be checked.
    const addresses = Object.keys(configMap.data ?? {}).filter((k) => k.endsWith('_GRPC_ADDR'));
    expect(addresses.sort()).toEqual([
      'AUTH_GRPC_ADDR',
      'COMMENTS_GRPC_ADDR',
      'METRICS_GRPC_ADDR',
      'POSTS_GRPC_ADDR',
    ]);
  });

  it('opens every gRPC channel of the services and packages with round_robin balancing', () => {
    const sites = repositoryChannelSites(ROOT);
    expect(sites.filter((s) => !s.roundRobin)).toEqual([]);
    // The service kit's factory, through which the services make their clients, is among them.
    expect(sites.map((s) => s.at)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^packages\/service-kit\/src\/grpc\/client\.ts:/)]),
    );
  });
});
