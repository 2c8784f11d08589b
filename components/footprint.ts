/**
 * The footprint rules, stated once: how many pods a workload runs at its worst moment, by how it
 * replaces them, and the headroom a quota keeps above what its namespace needs. The config check,
 * the render gate (lib/footprint.ts) and the docs all use these.
 */

/** How a workload replaces its pods on a release. */
export type Replacement =
  /** A Deployment's rolling update, or an Argo Rollouts canary without traffic routing: maxSurge above the count. */
  | "surge"
  /** A canary whose traffic a router splits: the canary ReplicaSet grows to the full count beside the stable one. */
  | "routedCanary"
  /** Blue-green: the preview ReplicaSet is scaled to the full count at promotion, beside the active one. */
  | "blueGreen"
  /** StatefulSets, DaemonSets, operators' pods: replaced one by one, never above the count. */
  | "inPlace";

/** Kubernetes' and Argo Rollouts' default maxSurge. */
export const DEFAULT_MAX_SURGE = "25%";

/** Pods a surge adds above `replicas`: a percentage rounds up, as the controllers round it. */
export function surgePods(replicas: number, maxSurge: string | number = DEFAULT_MAX_SURGE): number {
  if (typeof maxSurge === "number") return maxSurge;
  const percent = /^(\d+)%$/.exec(maxSurge)?.[1];
  return percent !== undefined ? Math.ceil((replicas * Number(percent)) / 100) : Number(maxSurge) || 0;
}

/** Pods a workload of `replicas` (its autoscaler's maximum, if any) runs at the worst moment of a release. */
export function podsAtWorst(replicas: number, replacement: Replacement, maxSurge?: string | number): number {
  switch (replacement) {
    case "surge":
      return replicas + surgePods(replicas, maxSurge);
    case "routedCanary":
    case "blueGreen":
      return 2 * replicas;
    case "inPlace":
      return replicas;
  }
}

/** Every quota keeps this share above what its namespace needs at its worst moment (a node drain, a retry). */
export const QUOTA_HEADROOM = 0.25;

/** The least quota the headroom rule allows for a need. */
export const withHeadroom = (need: number): number => need * (1 + QUOTA_HEADROOM);
