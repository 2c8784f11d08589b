/** Objects written for these tests: a compliant pod and the workloads that wrap it. */
import type { PolicyTarget } from "../harness";

export const DIGEST = "sha256:" + "a".repeat(64);

export function container(name = "app", extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    image: `ghcr.io/doc-rag/${name}@${DIGEST}`,
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    livenessProbe: { httpGet: { path: "/healthz", port: 8080 } },
    readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
    ...extra,
  };
}

/** A pod spec that passes every workload rule of the pack. */
export function podSpec(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
    containers: [container("app")],
    initContainers: [{ ...container("migrate"), livenessProbe: undefined, readinessProbe: undefined }],
    volumes: [{ name: "tmp", emptyDir: {} }],
    ...extra,
  };
}

const metadata = { name: "api", namespace: "doc-rag" };
const labels = { "app.kubernetes.io/name": "api" };

export function pod(spec = podSpec()): PolicyTarget {
  return {
    type: "kubernetes:core/v1:Pod",
    name: "api",
    props: { apiVersion: "v1", kind: "Pod", metadata: { ...metadata }, spec },
  };
}

/** Every kind that carries a pod template, wrapping the same spec. */
export function workloads(spec = podSpec()): Record<string, PolicyTarget> {
  const template = { metadata: { labels }, spec };
  const replicated = { replicas: 3, selector: { matchLabels: labels }, template };
  const make = (type: string, specProps: Record<string, unknown>): PolicyTarget => ({
    type,
    name: "api",
    props: { metadata: { ...metadata }, spec: specProps },
  });
  return {
    Pod: pod(spec),
    Deployment: make("kubernetes:apps/v1:Deployment", replicated),
    StatefulSet: make("kubernetes:apps/v1:StatefulSet", { ...replicated, serviceName: "api" }),
    DaemonSet: make("kubernetes:apps/v1:DaemonSet", { selector: { matchLabels: labels }, template }),
    ReplicaSet: make("kubernetes:apps/v1:ReplicaSet", replicated),
    Job: make("kubernetes:batch/v1:Job", { template }),
    CronJob: make("kubernetes:batch/v1:CronJob", { schedule: "0 * * * *", jobTemplate: { spec: { template } } }),
    Rollout: make("kubernetes:argoproj.io/v1alpha1:Rollout", replicated),
  };
}
