/** The Kubernetes objects a run registered, as manifests (what the plan writes and the gates read). */
import type { RecordedResource, StackRun } from "./resources";

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

/** Types that are Kubernetes resources but not one object (releases, YAML bundles, providers). */
const NOT_AN_OBJECT = /^kubernetes:(helm\.sh\/|yaml|kustomize)|^pulumi:providers:/;

export function isKubernetesObject(resource: RecordedResource): boolean {
  return (
    resource.custom && !resource.read && resource.type.startsWith("kubernetes:") && !NOT_AN_OBJECT.test(resource.type)
  );
}

/** Every Kubernetes object of the run as a manifest (inputs are the object itself). */
export function kubernetesObjects(run: StackRun): { resource: RecordedResource; object: KubernetesObject }[] {
  return run.resources
    .filter(isKubernetesObject)
    .map((resource) => ({ resource, object: resource.inputs as unknown as KubernetesObject }));
}
