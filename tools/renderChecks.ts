/**
 * The render gate's checks, over plain Kubernetes objects: what the program registers (the plan's
 * manifests) and what Helm renders for each release. Pure functions, so tests prove each check
 * on small fixtures; tools/render.ts runs them on a stack.
 */
import { podsAtWorst, QUOTA_HEADROOM, withHeadroom, type Replacement } from "../components/footprint";
import { quantityValue } from "../components/quantity";
import { podSecurityBaseline, podSecurityRestricted } from "../policies/workloads";
import { typeToken, type KubernetesProps } from "../policies/lib/kubernetes";
import { podTemplateOf } from "../policies/lib/podTemplate";
import { kubernetesTarget, runResourcePolicy } from "../lib/packRunner";
import { isTestHook, type KubeObject, type Placed } from "../lib/placed";

export interface Finding {
  check: "render" | "dead-value" | "pod-security" | "quota" | "reference" | "image" | "flow";
  level: "error" | "advisory";
  namespace?: string;
  release?: string;
  message: string;
}

type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form manifests

const spec = (o: KubeObject): Spec => (o["spec"] ?? {}) as Spec;

/** The pod template a workload runs, with how many pods at least and at most, and how it replaces them. */
interface Workload {
  podSpec: Spec;
  min: number;
  max: number;
  /** How a release replaces its pods, which sets how many run at its worst moment. */
  replacement: Replacement;
  maxSurge?: string | number;
  claims: Spec[];
}

function containersWith(resources: unknown): Spec {
  return { containers: [{ name: "main", resources: resources ?? {} }] };
}

/** How a Deployment or an Argo Rollout replaces its pods, from its own strategy. */
function replacementOf(kind: string, s: Spec): Pick<Workload, "replacement" | "maxSurge"> {
  if (kind === "Deployment") {
    if (s["strategy"]?.type === "Recreate") return { replacement: "inPlace" };
    return { replacement: "surge", maxSurge: s["strategy"]?.rollingUpdate?.maxSurge };
  }
  if (kind === "Rollout") {
    if (s["strategy"]?.blueGreen) return { replacement: "blueGreen" };
    const canary = s["strategy"]?.canary ?? {};
    return canary.trafficRouting
      ? { replacement: "routedCanary" }
      : { replacement: "surge", maxSurge: canary.maxSurge };
  }
  return { replacement: "inPlace" };
}

/**
 * What runs for an object: Kubernetes workloads, and the pods the platform's operators create from
 * their custom resources (replica counts and resources as each operator documents them).
 */
function workloadOf(o: KubeObject): Workload | undefined {
  const s = spec(o);
  const replicas = typeof s["replicas"] === "number" ? s["replicas"] : 1;
  // Kubernetes workloads, by the pack's own pod-template lookup. A CronJob's pods come and go, so it
  // counts toward no steady-state quota.
  // A PodTemplate is a template, never a pod of its own.
  const pod =
    o.kind === "CronJob" || o.kind === "PodTemplate"
      ? undefined
      : podTemplateOf(typeToken(o.apiVersion, o.kind), o as KubernetesProps);
  if (pod) {
    // A DaemonSet runs one pod per node; the gate assumes one node per namespace quota (a kind cluster).
    const count = ["Pod", "Job", "DaemonSet"].includes(pod.kind) ? 1 : replicas;
    return {
      podSpec: pod.spec as Spec,
      min: count,
      max: count,
      ...replacementOf(pod.kind, s),
      claims: pod.kind === "StatefulSet" ? ((s["volumeClaimTemplates"] ?? []) as Spec[]) : [],
    };
  }
  switch (o.kind) {
    // Operators: the Prometheus Operator, CloudNativePG and the OpenTelemetry Operator.
    case "Prometheus":
    case "Alertmanager":
    case "OpenTelemetryCollector":
      return {
        podSpec: containersWith(s["resources"]),
        min: replicas,
        max: replicas,
        replacement: "inPlace",
        claims: [],
      };
    case "Cluster":
      if (!o.apiVersion.startsWith("postgresql.cnpg.io/")) return undefined;
      return {
        podSpec: containersWith(s["resources"]),
        min: s["instances"] ?? 1,
        max: s["instances"] ?? 1,
        replacement: "inPlace",
        claims: [{ spec: { resources: { requests: { storage: s["storage"]?.size ?? "0" } } } }],
      };
    default:
      return undefined;
  }
}

/**
 * The Services an operator creates for a custom resource (each operator's documented names): the
 * Prometheus Operator's governing Services (one per namespace), the OpenTelemetry Operator's three
 * per collector, CloudNativePG's rw, ro and r per cluster.
 */
export function operatorServices(o: KubeObject): string[] {
  const name = o.metadata.name;
  switch (o.kind) {
    case "Prometheus":
      return o.apiVersion.startsWith("monitoring.coreos.com/") ? ["prometheus-operated"] : [];
    case "Alertmanager":
      return o.apiVersion.startsWith("monitoring.coreos.com/") ? ["alertmanager-operated"] : [];
    case "OpenTelemetryCollector":
      return [`${name}-collector`, `${name}-collector-headless`, `${name}-collector-monitoring`];
    case "Cluster":
      return o.apiVersion.startsWith("postgresql.cnpg.io/") ? [`${name}-rw`, `${name}-ro`, `${name}-r`] : [];
    default:
      return [];
  }
}

export interface LimitDefaults {
  default?: Record<string, string>;
  defaultRequest?: Record<string, string>;
}

type Usage = Record<string, number>;

/** A pod's requests and limits of cpu and memory, with the namespace's LimitRange defaults applied. */
export function podUsage(podSpec: Spec, limits: LimitDefaults = {}): Usage {
  const usage = (container: Spec): Usage => {
    const r = (container["resources"] ?? {}) as { requests?: Record<string, string>; limits?: Record<string, string> };
    const out: Usage = {};
    for (const resource of ["cpu", "memory"]) {
      const limit = r.limits?.[resource] ?? limits.default?.[resource];
      // Kubernetes defaults a missing request to the container's own limit, then to the LimitRange's.
      const request = r.requests?.[resource] ?? r.limits?.[resource] ?? limits.defaultRequest?.[resource];
      out[`requests.${resource}`] = request ? quantityValue(String(request)) : 0;
      out[`limits.${resource}`] = limit ? quantityValue(String(limit)) : 0;
    }
    return out;
  };
  const sum = (list: Usage[]) =>
    list.reduce<Usage>((acc, u) => {
      for (const [k, v] of Object.entries(u)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {});
  // A pod's effective demand: its containers together, or its largest init container if larger.
  const running = sum(((podSpec["containers"] ?? []) as Spec[]).map(usage));
  for (const init of ((podSpec["initContainers"] ?? []) as Spec[]).map(usage)) {
    for (const [k, v] of Object.entries(init)) running[k] = Math.max(running[k] ?? 0, v);
  }
  return running;
}

/** The autoscalers' bounds by the workload they scale (`Kind/name`). */
function autoscaled(objects: KubeObject[]): Map<string, { min: number; max: number }> {
  const bounds = new Map<string, { min: number; max: number }>();
  for (const o of objects.filter((x) => x.kind === "HorizontalPodAutoscaler")) {
    const s = spec(o);
    bounds.set(`${s["scaleTargetRef"]?.kind}/${s["scaleTargetRef"]?.name}`, {
      min: s["minReplicas"] ?? 1,
      max: s["maxReplicas"] ?? 1,
    });
  }
  return bounds;
}

const COUNTED: Record<string, string> = {
  ConfigMap: "configmaps",
  Secret: "secrets",
  Service: "services",
  PersistentVolumeClaim: "persistentvolumeclaims",
};

/**
 * What a namespace's objects use of its quota, at minimum replicas and at a release's worst moment at
 * full scale-out (components/footprint.ts: each autoscaler's maximum, plus the surge, or twice it for
 * a blue-green or a routed canary), with the Services operators create.
 */
export function namespaceUsage(
  objects: KubeObject[],
  limits: LimitDefaults = {},
  extraSecrets = 0,
): { atMinimum: Usage; atMaximum: Usage } {
  const atMinimum: Usage = { secrets: extraSecrets };
  const atMaximum: Usage = { secrets: extraSecrets };
  const add = (into: Usage, key: string, n: number) => (into[key] = (into[key] ?? 0) + n);
  const bounds = autoscaled(objects);
  // Services operators create beside the manifests' own, each counted once.
  const shown = new Set(objects.filter((o) => o.kind === "Service").map((o) => o.metadata.name));
  const created = new Set(objects.flatMap(operatorServices).filter((n) => !shown.has(n)));
  add(atMinimum, "services", created.size);
  add(atMaximum, "services", created.size);
  for (const o of objects) {
    const counted = COUNTED[o.kind];
    if (counted) {
      add(atMinimum, counted, 1);
      add(atMaximum, counted, 1);
    }
    if (o.kind === "PersistentVolumeClaim") {
      const size = quantityValue(String(spec(o)["resources"]?.requests?.storage ?? "0"));
      add(atMinimum, "requests.storage", size);
      add(atMaximum, "requests.storage", size);
    }
    const w = workloadOf(o);
    if (!w || isTestHook(o)) continue;
    const scaled = bounds.get(`${o.kind}/${o.metadata.name}`);
    const min = scaled ? scaled.min : w.min;
    // A release's worst moment at full scale-out: the surge, or a full second ReplicaSet.
    const max = podsAtWorst(scaled ? scaled.max : w.max, w.replacement, w.maxSurge);
    const pod = podUsage(w.podSpec, limits);
    for (const [count, into] of [
      [min, atMinimum],
      [max, atMaximum],
    ] as const) {
      add(into, "pods", count);
      for (const [k, v] of Object.entries(pod)) add(into, k, v * count);
      for (const claim of w.claims) {
        add(into, "persistentvolumeclaims", count);
        add(
          into,
          "requests.storage",
          count * quantityValue(String(claim["spec"]?.resources?.requests?.storage ?? "0")),
        );
      }
    }
  }
  return { atMinimum, atMaximum };
}

const show = (key: string, value: number) =>
  key.endsWith("memory") || key.endsWith("storage") ? `${(value / 2 ** 30).toFixed(2)}Gi` : `${+value.toFixed(3)}`;

/** Every quota key the usage exceeds, at minimum and at full scale-out, with by how much. */
export function quotaFindings(
  namespace: string,
  hard: Record<string, string>,
  usage: { atMinimum: Usage; atMaximum: Usage },
): Finding[] {
  const findings: Finding[] = [];
  for (const [key, limit] of Object.entries(hard)) {
    const allowed = quantityValue(String(limit));
    for (const [when, used] of [
      ["at minimum replicas", usage.atMinimum[key] ?? 0],
      ["at a release's worst moment at full scale-out", usage.atMaximum[key] ?? 0],
    ] as const) {
      if (used > allowed + 1e-9) {
        findings.push({
          check: "quota",
          level: "error",
          namespace,
          message: `${key}: ${show(key, used)} needed ${when}, quota ${limit} (over by ${show(key, used - allowed)})`,
        });
        break;
      }
    }
    const worst = usage.atMaximum[key] ?? 0;
    // Counts of objects round up: a count has no fraction of headroom.
    const asks = /^(requests|limits)\./.test(key) ? withHeadroom(worst) : Math.ceil(withHeadroom(worst));
    if (worst <= allowed + 1e-9 && asks > allowed + 1e-9)
      findings.push({
        check: "quota",
        level: "advisory",
        namespace,
        message: `${key}: quota ${limit} keeps less than the ${QUOTA_HEADROOM * 100}% headroom above the ${show(key, worst)} needed at a release's worst moment; the rule asks ${show(key, asks)}`,
      });
  }
  return findings;
}

export type QuotaUsage = { hard: Record<string, string> } & ReturnType<typeof namespaceUsage>;

/**
 * Quota fit of every namespace that has a ResourceQuota among `own` (the program's objects): what
 * `placed` holds there, with that namespace's LimitRange defaults for containers, plus
 * `extraSecrets(namespace)` Secrets that no manifest shows.
 */
export function quotaFit(
  own: KubeObject[],
  placed: Placed[],
  extraSecrets: (namespace: string) => number = () => 0,
): { quotas: Record<string, QuotaUsage>; findings: Finding[] } {
  const quotas: Record<string, QuotaUsage> = {};
  const findings: Finding[] = [];
  for (const quota of own.filter((o) => o.kind === "ResourceQuota")) {
    const ns = quota.metadata.namespace ?? "";
    const range = own.find((o) => o.kind === "LimitRange" && o.metadata.namespace === ns);
    const ranges = (range ? spec(range)["limits"] : []) as (LimitDefaults & { type: string })[];
    const limits = ranges.find((l) => l.type === "Container") ?? {};
    const objects = placed.filter((p) => p.namespace === ns).map((p) => p.object);
    const hard = (spec(quota)["hard"] ?? {}) as Record<string, string>;
    const usage = namespaceUsage(objects, limits, extraSecrets(ns));
    quotas[ns] = { hard, ...usage };
    findings.push(...quotaFindings(ns, hard, usage));
  }
  return { quotas, findings };
}

/**
 * Pods that break their namespace's enforced Pod Security level, at the version it enforces (its
 * enforce-version label; latest without one), by the pack's own PSS rules.
 */
export async function podSecurityFindings(
  placed: Placed[],
  levels: Map<string, string>,
  versions: Map<string, string> = new Map(),
): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const { object, namespace, release } of placed) {
    if (
      !workloadOf(object) ||
      isTestHook(object) ||
      !["v1", "apps/v1", "batch/v1", "argoproj.io/v1alpha1"].includes(object.apiVersion)
    )
      continue;
    const level = levels.get(namespace) ?? "restricted";
    const rules =
      level === "privileged"
        ? []
        : level === "baseline"
          ? [podSecurityBaseline]
          : [podSecurityBaseline, podSecurityRestricted];
    const target = kubernetesTarget(
      typeToken(object.apiVersion, object.kind).replace(/^kubernetes:/, ""),
      object.metadata.name,
      object,
    );
    const version = versions.get(namespace) ?? "latest";
    for (const rule of rules) {
      for (const v of (await runResourcePolicy(rule, target, { version })).violations) {
        findings.push({
          check: "pod-security",
          level: "error",
          namespace,
          ...(release ? { release } : {}),
          message: `${object.kind}/${object.metadata.name} (enforce ${level} ${version}): ${v.message}`,
        });
      }
    }
  }
  return findings;
}

/**
 * Secrets and ConfigMaps a pod needs (env, envFrom, volumes; not those marked optional) that
 * nothing creates in its namespace: neither the program, nor a chart, nor a known creator at run
 * time (`runtimeSecrets`, e.g. an ExternalSecret's target or an operator's generated Secrets).
 */
export function referenceFindings(placed: Placed[], runtimeSecrets: Map<string, Set<string>>): Finding[] {
  // Each Secret and ConfigMap by namespace, kind and name, with its keys (data and stringData).
  const existing = new Map(
    placed
      .filter((p) => p.object.kind === "Secret" || p.object.kind === "ConfigMap")
      .map((p) => {
        const keys = ["data", "stringData", "binaryData"].flatMap((field) =>
          Object.keys((p.object[field] ?? {}) as object),
        );
        return [`${p.namespace}/${p.object.kind}/${p.object.metadata.name}`, new Set(keys)] as const;
      }),
  );
  const findings: Finding[] = [];
  for (const { object, namespace, release } of placed) {
    const w = workloadOf(object);
    if (!w || isTestHook(object)) continue;
    // Kind, name and, for a single key taken from it, that key.
    const needed: [string, string, string?][] = [];
    const containers = [
      ...((w.podSpec["containers"] ?? []) as Spec[]),
      ...((w.podSpec["initContainers"] ?? []) as Spec[]),
    ];
    for (const c of containers) {
      for (const e of (c["env"] ?? []) as Spec[]) {
        const from = e["valueFrom"] ?? {};
        if (from.secretKeyRef && !from.secretKeyRef.optional)
          needed.push(["Secret", from.secretKeyRef.name, from.secretKeyRef.key]);
        if (from.configMapKeyRef && !from.configMapKeyRef.optional)
          needed.push(["ConfigMap", from.configMapKeyRef.name, from.configMapKeyRef.key]);
      }
      for (const e of (c["envFrom"] ?? []) as Spec[]) {
        if (e["secretRef"] && !e["secretRef"].optional) needed.push(["Secret", e["secretRef"].name]);
        if (e["configMapRef"] && !e["configMapRef"].optional) needed.push(["ConfigMap", e["configMapRef"].name]);
      }
    }
    for (const v of (w.podSpec["volumes"] ?? []) as Spec[]) {
      if (v["secret"] && !v["secret"].optional) needed.push(["Secret", v["secret"].secretName]);
      if (v["configMap"] && !v["configMap"].optional) needed.push(["ConfigMap", v["configMap"].name]);
    }
    for (const [kind, name, key] of needed) {
      const keys = existing.get(`${namespace}/${kind}/${name}`);
      if (keys && key !== undefined && keys.size > 0 && !keys.has(key)) {
        findings.push({
          check: "reference",
          level: "error",
          namespace,
          ...(release ? { release } : {}),
          message: `${object.kind}/${object.metadata.name} needs key ${key} of ${kind} ${name}, which has only ${[...keys].sort().join(", ")}`,
        });
        continue;
      }
      if (keys) continue;
      if (kind === "Secret" && runtimeSecrets.get(namespace)?.has(name)) continue;
      findings.push({
        check: "reference",
        level: "error",
        namespace,
        ...(release ? { release } : {}),
        message: `${object.kind}/${object.metadata.name} needs ${kind} ${name}, which nothing creates in ${namespace}`,
      });
    }
  }
  return findings;
}

/** Images a chart runs by tag, not digest: advisory (a user pins them with the chart's image values). */
export function imageFindings(placed: Placed[]): Finding[] {
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const { object, release, namespace } of placed) {
    const w = workloadOf(object);
    if (!w || !release || isTestHook(object)) continue;
    for (const c of [
      ...((w.podSpec["containers"] ?? []) as Spec[]),
      ...((w.podSpec["initContainers"] ?? []) as Spec[]),
    ]) {
      const image = String(c["image"] ?? "");
      if (!image || image.includes("@sha256:") || seen.has(`${release}/${image}`)) continue;
      seen.add(`${release}/${image}`);
      findings.push({
        check: "image",
        level: "advisory",
        namespace,
        release,
        message: `${image} is not pinned by digest`,
      });
    }
  }
  return findings;
}
