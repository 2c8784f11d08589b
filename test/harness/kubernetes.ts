/**
 * The Kubernetes objects of a run validated against the official OpenAPI schemas
 * (kubernetes-models; companion packages for custom resources): a test helper.
 */
import { kubernetesObjects, type KubernetesObject } from "../../lib/kubernetesObjects";
import { unwrapSecrets, type StackRun } from "../../lib/resources";

/**
 * Models for custom resources: apiVersion → module exporting one class per kind.
 * Components that add custom resources register their companion package here.
 */
export const CUSTOM_RESOURCE_MODELS: Record<string, string> = {
  "external-secrets.io/v1": "@kubernetes-models/external-secrets/external-secrets.io/v1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
  "opentelemetry.io/v1beta1": "@kubernetes-models/opentelemetry-operator/opentelemetry.io/v1beta1",
  "argoproj.io/v1alpha1": "@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1",
  "gateway.networking.k8s.io/v1": "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1",
  "gateway.envoyproxy.io/v1alpha1": "@kubernetes-models/envoy-gateway/gateway.envoyproxy.io/v1alpha1",
  "cert-manager.io/v1": "@kubernetes-models/cert-manager/cert-manager.io/v1",
};

function modelModule(apiVersion: string): string {
  const custom = CUSTOM_RESOURCE_MODELS[apiVersion];
  if (custom) return custom;
  // kubernetes-models lays out one module per group/version; the core group is plain "v1".
  return `kubernetes-models/${apiVersion}`;
}

interface Model {
  validate(): void;
}

/**
 * Problems with one object against its official schema; empty when it is valid. An object
 * without a known schema is itself a problem, so a new kind cannot slip by unchecked.
 * Models load with import(): kubernetes-models@4 is CommonJS, newer companions are ES modules.
 */
export async function schemaProblems(object: KubernetesObject): Promise<string[]> {
  const label = `${object.kind ?? "?"} ${object.metadata?.namespace ?? "-"}/${object.metadata?.name ?? "?"}`;
  let models: Record<string, (new (data: unknown) => Model) | undefined>;
  try {
    models = (await import(modelModule(object.apiVersion))) as typeof models;
  } catch {
    return [`${label}: no schema for apiVersion ${object.apiVersion}; add its models to CUSTOM_RESOURCE_MODELS`];
  }
  const Model = models[object.kind];
  if (!Model) {
    return [`${label}: apiVersion ${object.apiVersion} has no kind ${object.kind}`];
  }
  try {
    new Model(object).validate();
    return [];
  } catch (err) {
    return [`${label}: ${(err as Error).message}`];
  }
}

/** Schema problems of every Kubernetes object in the run. */
export async function validateKubernetesObjects(run: StackRun): Promise<string[]> {
  // Validate what the API server receives: secret values in plain text.
  const problems = await Promise.all(
    kubernetesObjects(run).map(({ object }) => schemaProblems(unwrapSecrets<KubernetesObject>(object))),
  );
  return problems.flat();
}
