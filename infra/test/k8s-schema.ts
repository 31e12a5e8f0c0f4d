import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { Resource } from './kustomize';

/**
 * Checks a resource against the Kubernetes API schema of its kind, as kubernetes-models compiles it
 * from the official OpenAPI document (types, required fields, enums, formats such as quantities),
 * and refuses fields the schema does not declare, as `kubectl apply` does by default
 * (`--validate=strict`, the API server's strict field validation).
 */

interface Validatable {
  validate(): void;
}
/** A kubernetes-models class: built from a plain object, it validates itself. */
type ModelClass = new (data: never) => Validatable;

/**
 * The kinds the manifests may use, each at its GA version (kubernetes-models also carries removed
 * APIs such as extensions/v1beta1, which a current cluster no longer serves). A kind outside this
 * list fails the check until its model is added here.
 */
const MODELS: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
};

interface SchemaError {
  instancePath: string;
  message?: string;
}

function schemaErrors(Model: ModelClass, data: object): SchemaError[] {
  try {
    new (Model as unknown as new (data: object) => Validatable)(data).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: unknown }).errors;
    if (Array.isArray(errors)) return errors as SchemaError[];
    throw err;
  }
}

/** A value of no JSON type: every schema that constrains a field rejects it there. */
const PROBE = Symbol('probe');

const pointerOf = (parent: string, key: string) =>
  `${parent}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;

/**
 * Fields the schema does not declare, as JSON pointers. kubernetes-models' validators do not refuse
 * undeclared fields themselves, so each field is replaced in turn by a value of no JSON type: a
 * declared field (or any key of a map such as labels or ConfigMap data, whose values are typed)
 * fails validation at exactly that place, an undeclared one does not. The keys inside a field the
 * schema leaves free-form (metadata.managedFields[].fieldsV1, which only the server writes) are
 * reported too: the check errs towards refusing.
 */
function undeclaredFields(Model: ModelClass, resource: Resource): string[] {
  const copy = structuredClone(resource) as unknown;
  const found: string[] = [];
  const visit = (node: unknown, at: string): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, `${at}/${i}`));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const object = node as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      const here = pointerOf(at, key);
      const value = object[key];
      object[key] = PROBE;
      const declared = schemaErrors(Model, copy as object).some((e) => e.instancePath === here);
      object[key] = value;
      if (declared) visit(value, here);
      else found.push(here);
    }
  };
  visit(copy, '');
  return found;
}

/** Every way `resource` breaks its kind's API schema, one line each; empty when it is valid. */
export function schemaProblems(resource: Resource): string[] {
  const Model = MODELS[`${resource.apiVersion}/${resource.kind}`];
  if (!Model)
    return [`no schema for ${resource.apiVersion} ${resource.kind} (not a kind the manifests may use)`];
  return [
    ...schemaErrors(Model, resource).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`),
    ...undeclaredFields(Model, resource).map((p) => `${p} is not a field of ${resource.kind}`),
  ];
}
