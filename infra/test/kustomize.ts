import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/**
 * What `kubectl apply -k <dir>` sends to the API server, assembled the way kustomize does for the
 * features this repository's kustomization uses: `resources` naming YAML files, and `namespace`.
 * npm has no maintained kustomize in JavaScript, so this is a deliberately small subset that refuses
 * everything else by name (other kustomization fields, directories or remote bases, List documents,
 * kinds it cannot place in or out of a namespace) instead of assembling something kubectl would not.
 */

/** A Kubernetes object as read from YAML; the schemas decide what else it holds. */
export interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/**
 * Narrows resources to one kind with a kubernetes-models guard (`Service.is`), keeping what every
 * assembled resource has: `resources.filter(ofKind(Service.is))`.
 */
export const ofKind =
  <T>(is: (value: unknown) => value is T) =>
  (r: Resource): r is Resource & T =>
    is(r);

const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources']);

// The namespace transformer sets metadata.namespace on namespaced kinds only, so every kind must be
// placed on one side; an unlisted one is an error rather than a guess.
const NAMESPACED = new Set([
  'ConfigMap',
  'CronJob',
  'DaemonSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'Ingress',
  'Job',
  'NetworkPolicy',
  'PersistentVolumeClaim',
  'PodDisruptionBudget',
  'Secret',
  'Service',
  'ServiceAccount',
  'StatefulSet',
]);
// RoleBinding and ClusterRoleBinding are left out on purpose: kustomize also rewrites their subjects.
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'IngressClass', 'PriorityClass', 'StorageClass']);

export const isNamespaced = (kind: string) => NAMESPACED.has(kind);

const fail = (dir: string, message: string): never => {
  throw new Error(`${path.join(dir, 'kustomization.yaml')}: ${message}`);
};

function readResources(dir: string, file: string): Resource[] {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file) || file.includes('?ref=')) {
    return fail(dir, `remote resource ${file} is not supported here`);
  }
  const full = path.resolve(dir, file);
  if (path.relative(dir, full).startsWith('..') || path.isAbsolute(file)) {
    // kustomize's default load restrictor refuses files outside the kustomization's root.
    return fail(dir, `${file} lies outside the kustomization's directory`);
  }
  if (statSync(full).isDirectory()) return fail(dir, `${file} is a directory (a base): not supported here`);
  const out: Resource[] = [];
  for (const doc of parseAllDocuments(readFileSync(full, 'utf8'))) {
    if (doc.errors.length > 0) return fail(dir, `${file}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue; // an empty document, as kustomize skips it
    const r = value as Partial<Resource>;
    if (typeof r !== 'object' || typeof r.apiVersion !== 'string' || typeof r.kind !== 'string') {
      return fail(dir, `${file}: a document without apiVersion and kind`);
    }
    if (typeof r.metadata?.name !== 'string' || r.metadata.name === '') {
      return fail(dir, `${file}: a ${r.kind} without metadata.name`);
    }
    if (r.kind.endsWith('List')) return fail(dir, `${file}: ${r.kind} documents are not supported here`);
    out.push(r as Resource);
  }
  return out;
}

/** The resources `kubectl apply -k dir` would create (in file order; kubectl sorts them by kind). */
export function assemble(dir: string): Resource[] {
  const kustomization = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  if (
    kustomization.apiVersion !== undefined &&
    kustomization.apiVersion !== 'kustomize.config.k8s.io/v1beta1'
  ) {
    fail(dir, `apiVersion ${String(kustomization.apiVersion)} is not kustomize.config.k8s.io/v1beta1`);
  }
  if (kustomization.kind !== undefined && kustomization.kind !== 'Kustomization') {
    fail(dir, `kind ${String(kustomization.kind)} is not Kustomization`);
  }
  for (const field of Object.keys(kustomization)) {
    if (!SUPPORTED_FIELDS.has(field)) fail(dir, `field ${field} is not supported here`);
  }
  const { namespace, resources } = kustomization;
  if (!Array.isArray(resources) || !resources.every((f): f is string => typeof f === 'string')) {
    return fail(dir, 'resources must be a list of file names');
  }
  if (namespace !== undefined && typeof namespace !== 'string')
    return fail(dir, 'namespace must be a string');

  const assembled = resources.flatMap((file) => readResources(dir, file));
  const ids = new Set<string>();
  for (const r of assembled) {
    if (namespace !== undefined) {
      if (NAMESPACED.has(r.kind)) r.metadata.namespace = namespace;
      // kustomize's default field specs also give a Namespace object the kustomization's namespace.
      else if (r.kind === 'Namespace') r.metadata.name = namespace;
      else if (!CLUSTER_SCOPED.has(r.kind))
        fail(dir, `kind ${r.kind} is neither known namespaced nor cluster-scoped`);
    }
    // One object twice (group, kind, namespace and name) is refused: kustomize refuses a repeated id,
    // and the API server would take the second for an update of the first.
    const group = r.apiVersion.includes('/') ? r.apiVersion.split('/')[0] : '';
    const id = `${group}/${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;
    if (ids.has(id)) fail(dir, `${r.kind} ${r.metadata.name} is defined twice`);
    ids.add(id);
  }
  return assembled;
}
