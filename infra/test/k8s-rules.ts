import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { isNamespaced, ofKind, type Resource } from './kustomize';

/**
 * What the API schemas cannot say but a working deployment needs: rules across fields and across
 * resources that the API server, the kubelet or a controller would trip over after `kubectl apply`
 * had accepted every object. Each function returns one line per problem; empty when all hold.
 */

interface PodTemplate {
  kind: string;
  owner: string;
  namespace: string | undefined;
  labels: Record<string, string>;
  containers: IContainer[];
}

const nameOf = (r: Resource) => `${r.kind} ${r.metadata.name}`;

function podTemplates(resources: Resource[]): PodTemplate[] {
  const templates: PodTemplate[] = [];
  for (const r of resources) {
    const template = Deployment.is(r) || Job.is(r) ? r.spec?.template : undefined;
    if (!template) continue;
    templates.push({
      kind: r.kind,
      owner: nameOf(r),
      namespace: r.metadata.namespace,
      labels: template.metadata?.labels ?? {},
      containers: template.spec?.containers ?? [],
    });
  }
  return templates;
}

const deployments = (resources: Resource[]) => podTemplates(resources).filter((t) => t.kind === 'Deployment');

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** `port` (a number or a port name) is one `container` declares. */
const declaresPort = (container: IContainer, port: number | string) =>
  (container.ports ?? []).some((p) =>
    typeof port === 'number' ? p.containerPort === port : p.name === port,
  );

/** Every HTTP, TCP and gRPC probe targets a port its container declares (a named one must exist). */
export function probeProblems(resources: Resource[]): string[] {
  const problems: string[] = [];
  for (const t of podTemplates(resources)) {
    for (const c of t.containers) {
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        const p = c[probe];
        const port = p?.httpGet?.port ?? p?.tcpSocket?.port ?? p?.grpc?.port;
        if (port !== undefined && !declaresPort(c, port)) {
          problems.push(
            `${t.owner} container ${c.name}: ${probe} port ${port} is none of its container ports`,
          );
        }
      }
    }
  }
  return problems;
}

/**
 * A Deployment's selector matches its own pods (the API server refuses it otherwise); every Service,
 * PodDisruptionBudget and HorizontalPodAutoscaler finds the pods it is meant for, a Service's target
 * ports exist on them, and an HPA scaling on utilisation has the requests it divides by.
 */
export function selectorProblems(resources: Resource[]): string[] {
  const problems: string[] = [];
  const inNamespace = (ns: string | undefined) => deployments(resources).filter((t) => t.namespace === ns);
  for (const r of resources) {
    if (Deployment.is(r)) {
      const selector = r.spec?.selector;
      if (selector?.matchExpressions) problems.push(`${nameOf(r)}: matchExpressions are not checked here`);
      if (!selects(selector?.matchLabels ?? {}, r.spec?.template.metadata?.labels ?? {})) {
        problems.push(`${nameOf(r)}: its selector does not match its pod template's labels`);
      }
    } else if (Service.is(r) && r.spec?.selector) {
      const selector = r.spec.selector;
      // An empty selector selects nothing here: Kubernetes then manages no endpoints for the Service.
      const pods =
        Object.keys(selector).length === 0
          ? []
          : inNamespace(r.metadata?.namespace).filter((t) => selects(selector, t.labels));
      if (pods.length === 0) problems.push(`${nameOf(r)}: its selector matches no Deployment's pods`);
      for (const port of r.spec.ports ?? []) {
        const target = port.targetPort ?? port.port;
        for (const pod of pods.filter((t) => !t.containers.some((c) => declaresPort(c, target)))) {
          problems.push(`${nameOf(r)}: target port ${target} is none of ${pod.owner}'s container ports`);
        }
      }
    } else if (PodDisruptionBudget.is(r)) {
      const selector = r.spec?.selector?.matchLabels ?? {};
      if (!inNamespace(r.metadata?.namespace).some((t) => selects(selector, t.labels))) {
        problems.push(`${nameOf(r)}: its selector matches no Deployment's pods`);
      }
    } else if (HorizontalPodAutoscaler.is(r)) {
      const ref = r.spec?.scaleTargetRef;
      const target = deployments(resources).find(
        (t) =>
          ref?.kind === 'Deployment' &&
          t.owner === `Deployment ${ref.name}` &&
          t.namespace === r.metadata?.namespace,
      );
      if (!target || ref?.apiVersion !== 'apps/v1') {
        problems.push(`${nameOf(r)}: scales ${ref?.apiVersion} ${ref?.kind} ${ref?.name}, which is not here`);
        continue;
      }
      for (const m of r.spec?.metrics ?? []) {
        if (m.type !== 'Resource' || m.resource?.target.type !== 'Utilization') continue;
        const resource = m.resource.name;
        for (const c of target.containers.filter((x) => x.resources?.requests?.[resource] === undefined)) {
          problems.push(`${nameOf(r)}: ${target.owner} container ${c.name} requests no ${resource}`);
        }
      }
    }
  }
  return problems;
}

/** ConfigMaps that containers read exist in their namespace (with the keys they name). */
export function referenceProblems(resources: Resource[]): string[] {
  const problems: string[] = [];
  const configMaps = resources.filter(ofKind(ConfigMap.is));
  const find = (ns: string | undefined, name: string) =>
    configMaps.find((m) => m.metadata?.name === name && m.metadata.namespace === ns);
  for (const t of podTemplates(resources)) {
    for (const c of t.containers) {
      for (const from of c.envFrom ?? []) {
        const name = from.configMapRef?.name;
        if (name && !from.configMapRef?.optional && !find(t.namespace, name)) {
          problems.push(`${t.owner} container ${c.name}: ConfigMap ${name} is not here`);
        }
      }
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.configMapKeyRef;
        if (ref && !ref.optional && find(t.namespace, ref.name ?? '')?.data?.[ref.key] === undefined) {
          problems.push(`${t.owner} container ${c.name}: ConfigMap key ${ref.name}/${ref.key} is not here`);
        }
      }
    }
  }
  return problems;
}

/** Every namespaced resource lands in a namespace the same apply creates. */
export function namespaceProblems(resources: Resource[]): string[] {
  const created = new Set(resources.filter(ofKind(Namespace.is)).map((n) => n.metadata?.name));
  return resources
    .filter((r) => isNamespaced(r.kind) && !created.has(r.metadata.namespace ?? ''))
    .map((r) => `${nameOf(r)}: namespace ${r.metadata.namespace ?? '(none)'} is not created here`);
}

/**
 * Every gRPC address a container is given (`*_GRPC_ADDR`, set on it or in a ConfigMap it loads) is
 * `<service>:<port>` of a headless Service in its namespace, whose port reaches a port named grpc on
 * the pods it selects. A ClusterIP Service would hand grpc-js one virtual address: one connection,
 * pinned to whichever pod kube-proxy picked, so round_robin would have nothing to spread over.
 */
export function grpcServiceProblems(resources: Resource[]): string[] {
  const configMaps = resources.filter(ofKind(ConfigMap.is));
  // Each address once per namespace, whichever containers are given it.
  const addresses = new Map<string, { namespace: string | undefined; address: string }>();
  for (const t of podTemplates(resources)) {
    for (const c of t.containers) {
      const env: Record<string, string | undefined> = {};
      for (const from of c.envFrom ?? []) {
        const map = configMaps.find(
          (m) => m.metadata?.name === from.configMapRef?.name && m.metadata.namespace === t.namespace,
        );
        Object.assign(env, map?.data);
      }
      for (const e of c.env ?? []) env[e.name] = e.value;
      for (const [key, address] of Object.entries(env)) {
        if (key.endsWith('_GRPC_ADDR') && address !== undefined) {
          addresses.set(`${t.namespace ?? ''}/${key}=${address}`, { namespace: t.namespace, address });
        }
      }
    }
  }
  const problems: string[] = [];
  for (const [where, { namespace, address }] of addresses) {
    const [, host, port] = /^([a-z0-9-]+):(\d+)$/.exec(address) ?? [];
    if (!host || !port) {
      problems.push(`${where}: not <service>:<port> of a Service in its namespace`);
      continue;
    }
    const svc = resources
      .filter(ofKind(Service.is))
      .find((s) => s.metadata?.name === host && s.metadata.namespace === namespace);
    if (!svc) {
      problems.push(`${where}: no Service ${host} here`);
      continue;
    }
    if (svc.spec?.clusterIP !== 'None')
      problems.push(`${where}: Service ${host} is not headless (clusterIP: None)`);
    const servicePort = svc.spec?.ports?.find((p) => p.port === Number(port));
    if (!servicePort) {
      problems.push(`${where}: Service ${host} has no port ${port}`);
      continue;
    }
    const target = servicePort.targetPort ?? servicePort.port;
    const pods = deployments(resources).filter(
      (d) => d.namespace === namespace && selects(svc.spec?.selector ?? {}, d.labels),
    );
    for (const pod of pods) {
      const reached = pod.containers
        .flatMap((x) => x.ports ?? [])
        .find((p) => (typeof target === 'number' ? p.containerPort === target : p.name === target));
      if (reached?.name !== 'grpc') problems.push(`${where}: ${pod.owner} has no port named grpc behind it`);
    }
  }
  return problems;
}

/** Every rule above. */
export const ruleProblems = (resources: Resource[]): string[] => [
  ...namespaceProblems(resources),
  ...probeProblems(resources),
  ...selectorProblems(resources),
  ...referenceProblems(resources),
  ...grpcServiceProblems(resources),
];
