/**
 * The workloads the program creates itself, and whether their pods were admitted and became Ready.
 * Argo Rollouts' controller does not run here (its chart is a stand-in), so the lane does its first
 * step for it: each Rollout gets the ReplicaSet the controller would create (its pod template, its
 * replicas), owned by the Rollout, and its pods meet admission like any other.
 */
import type { Cluster } from "./cluster";

export const STAND_IN_LABEL = "doc-rag.io/e2e-stand-in";

export interface KubeObject {
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown> & { replicas?: number; selector?: unknown; template?: unknown };
  status?: {
    readyReplicas?: number;
    numberReady?: number;
    desiredNumberScheduled?: number;
    conditions?: { type: string; status: string; message?: string }[];
  };
}

/** Every object of a resource type in the cluster; none when the type is not served (yet). */
export async function list(cluster: Cluster, resource: string): Promise<KubeObject[]> {
  const result = await cluster.kubectl(["get", resource, "-A", "-o", "json"], undefined, true);
  if (result.code !== 0) return [];
  return (JSON.parse(result.stdout) as { items: KubeObject[] }).items;
}

/** The ReplicaSet Argo Rollouts would create for a Rollout's first revision. */
function replicaSetFor(rollout: KubeObject): Record<string, unknown> {
  const template = rollout.spec?.template as { metadata?: { labels?: Record<string, string> } } | undefined;
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `${rollout.metadata.name}-stand-in`,
      namespace: rollout.metadata.namespace,
      labels: { ...(template?.metadata?.labels ?? {}), [STAND_IN_LABEL]: "rollout" },
      ownerReferences: [
        {
          apiVersion: "argoproj.io/v1alpha1",
          kind: "Rollout",
          name: rollout.metadata.name,
          uid: rollout.metadata.uid,
          controller: true,
        },
      ],
    },
    spec: { replicas: rollout.spec?.replicas ?? 1, selector: rollout.spec?.selector, template: rollout.spec?.template },
  };
}

/** Creates each Rollout's ReplicaSet as Rollouts appear, until stopped (runs beside `pulumi up`). */
export function standInForRollouts(cluster: Cluster): { stop: () => Promise<void> } {
  let running = true;
  const seen = new Set<string>();
  const sweep = async () => {
    for (const rollout of await list(cluster, "rollouts.argoproj.io")) {
      const key = `${rollout.metadata.namespace}/${rollout.metadata.name}`;
      if (seen.has(key)) continue;
      const created = await cluster.kubectl(["create", "-f", "-"], JSON.stringify(replicaSetFor(rollout)));
      if (created.code === 0 || /AlreadyExists/.test(created.stderr)) seen.add(key);
    }
  };
  const done = (async () => {
    while (running) {
      await sweep();
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
  return {
    // One last sweep once up has finished: a Rollout created after the last poll still gets its ReplicaSet.
    stop: async () => {
      running = false;
      await done;
      await sweep();
    },
  };
}

export interface WorkloadPods {
  kind: string;
  namespace: string;
  name: string;
  desired: number;
  ready: number;
  /** Why pods are missing: the ReplicaSet's or DaemonSet's admission failure, as the API server said it. */
  refused?: string;
}

function failure(objects: KubeObject[]): string | undefined {
  for (const o of objects)
    for (const c of o.status?.conditions ?? [])
      if ((c.type === "ReplicaFailure" || c.type === "FailedCreate") && c.status === "True" && c.message)
        return c.message;
  return undefined;
}

/** Pods of each workload, once: desired against Ready, with the admission failure where there is one. */
async function podsOnce(
  cluster: Cluster,
  workloads: { kind: string; namespace: string; name: string }[],
): Promise<WorkloadPods[]> {
  const [replicaSets, statefulSets, daemonSets, events] = await Promise.all(
    ["replicasets.apps", "statefulsets.apps", "daemonsets.apps", "events"].map((r) => list(cluster, r)),
  );
  const here = (namespace: string, name: string) => (o: KubeObject) =>
    o.metadata.namespace === namespace && o.metadata.name === name;
  const ownedBy = (namespace: string, owner: string) => (o: KubeObject) =>
    o.metadata.namespace === namespace &&
    ((o.metadata as { ownerReferences?: { name: string }[] }).ownerReferences ?? []).some((r) => r.name === owner);
  return workloads.map((w) => {
    // A Deployment's or Rollout's pods are those of its ReplicaSets; the others' their own.
    const objects =
      w.kind === "Deployment" || w.kind === "Rollout"
        ? (replicaSets ?? []).filter(ownedBy(w.namespace, w.name))
        : ({ ReplicaSet: replicaSets, StatefulSet: statefulSets, DaemonSet: daemonSets }[w.kind] ?? []).filter(
            here(w.namespace, w.name),
          );
    const desired = objects.reduce(
      (n, o) => n + (w.kind === "DaemonSet" ? (o.status?.desiredNumberScheduled ?? 0) : (o.spec?.replicas ?? 0)),
      0,
    );
    const ready = objects.reduce(
      (n, o) => n + (w.kind === "DaemonSet" ? (o.status?.numberReady ?? 0) : (o.status?.readyReplicas ?? 0)),
      0,
    );
    const names = new Set([w.name, ...objects.map((o) => o.metadata.name)]);
    const refusedEvent = (events ?? []).find(
      (e) =>
        e.metadata.namespace === w.namespace &&
        names.has((e as unknown as { involvedObject: { name: string } }).involvedObject.name) &&
        (e as unknown as { reason: string }).reason === "FailedCreate",
    ) as unknown as { message?: string } | undefined;
    const refused = failure(objects) ?? refusedEvent?.message;
    return { ...w, desired, ready, ...(ready < desired && refused ? { refused } : {}) };
  });
}

/**
 * Waits until every workload's pods are Ready, or every one still short of them has been refused by
 * admission (it will not get better), or `seconds` pass; returns the last count.
 */
export async function waitForPods(
  cluster: Cluster,
  workloads: { kind: string; namespace: string; name: string }[],
  seconds: number,
): Promise<WorkloadPods[]> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const pods = await podsOnce(cluster, workloads);
    const short = pods.filter((p) => p.desired === 0 || p.ready < p.desired);
    if (short.length === 0 || short.every((p) => p.refused) || Date.now() > deadline) return pods;
    await new Promise((r) => setTimeout(r, 2000));
  }
}
