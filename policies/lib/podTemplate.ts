/**
 * One way to reach the pod of every kind that runs one, so each workload rule is written once.
 */
import type { Container, KubernetesProps, ObjectMeta, PodSpec } from "./kubernetes";
import { parseKubernetesType } from "./kubernetes";
import { valueAt } from "./policy";

/** Where each kind keeps its pod template, as a path of fields from the object's root. */
const POD_TEMPLATE_PATHS: Record<string, string> = {
  "core/Pod": "",
  // Pod Security Admission checks a PodTemplate's pod too; it runs nothing itself.
  "core/PodTemplate": "template",
  "apps/Deployment": "spec.template",
  "apps/StatefulSet": "spec.template",
  "apps/DaemonSet": "spec.template",
  "apps/ReplicaSet": "spec.template",
  "core/ReplicationController": "spec.template",
  "batch/Job": "spec.template",
  "batch/CronJob": "spec.jobTemplate.spec.template",
  "argoproj.io/Rollout": "spec.template",
};

/** Kinds that keep a service running (as opposed to run-to-completion Jobs). */
const LONG_RUNNING = new Set([
  "Pod",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
  "Rollout",
]);

/** Kinds whose replicas are interchangeable: the ones a replica-count rule applies to. */
export const STATELESS_KINDS = new Set(["Deployment", "ReplicaSet", "Rollout"]);

export interface PodTemplate {
  kind: string;
  /** The pod's metadata: the object's own for a Pod, the template's otherwise. */
  metadata: ObjectMeta;
  spec: PodSpec;
  /** Field path of the pod spec in the object, e.g. `spec.template.spec`. */
  specPath: string;
  longRunning: boolean;
}

export type ContainerKind = "containers" | "initContainers" | "ephemeralContainers";

export interface ContainerRef {
  container: Container;
  kind: ContainerKind;
  /** Field path of the container, e.g. `spec.template.spec.containers[0]`. */
  path: string;
  /** How messages name it: `container "api"`, `init container "migrate"`. */
  label: string;
}

/** The pod template of a Pulumi Kubernetes resource, or undefined when the type runs no pod. */
export function podTemplateOf(type: string, props: KubernetesProps): PodTemplate | undefined {
  const parsed = parseKubernetesType(type);
  if (!parsed) return undefined;
  const path = POD_TEMPLATE_PATHS[`${parsed.group}/${parsed.kind}`];
  if (path === undefined) return undefined;
  const template = (path ? valueAt(props, path) : props) as { metadata?: ObjectMeta; spec?: PodSpec } | undefined;
  return {
    kind: parsed.kind,
    metadata: template?.metadata ?? {},
    spec: template?.spec ?? {},
    specPath: path ? `${path}.spec` : "spec",
    longRunning: LONG_RUNNING.has(parsed.kind),
  };
}

const LABELS: Record<ContainerKind, string> = {
  containers: "container",
  initContainers: "init container",
  ephemeralContainers: "ephemeral container",
};

/** Every container of the pod, init and ephemeral ones included, with its field path. */
export function containersOf(
  pod: PodTemplate,
  kinds: ContainerKind[] = Object.keys(LABELS) as ContainerKind[],
): ContainerRef[] {
  return kinds.flatMap((kind) =>
    (pod.spec[kind] ?? []).map((container, i) => ({
      container,
      kind,
      path: `${pod.specPath}.${kind}[${i}]`,
      label: `${LABELS[kind]} "${container.name ?? i}"`,
    })),
  );
}

/**
 * Init containers with `restartPolicy: Always` are sidecars: they run beside the app for the
 * pod's life, so rules about running containers (probes) apply to them too.
 */
export function runningContainersOf(pod: PodTemplate): ContainerRef[] {
  return containersOf(pod, ["containers", "initContainers"]).filter(
    (ref) => ref.kind === "containers" || ref.container.restartPolicy === "Always",
  );
}
