/**
 * The lane checks its own teeth: after `pulumi up`, deliberately broken copies of the program's own
 * objects go to the same API server, and the lane's checks must catch each one, as they would catch
 * the program itself. A copy of a workload's pods scaled past its namespace's quota, a copy whose
 * pods break the namespace's Pod Security level, a copy of a custom resource that breaks its CRD.
 * The copies carry labels of their own (no Service, autoscaler or budget selects them) and are
 * deleted afterwards.
 */
import type { Cluster } from "./cluster";
import { list, waitForPods } from "./workloads";

export interface SelfCheck {
  what: string;
  /** The lane's checks caught it, with the API server's words. */
  detected: boolean;
  message: string;
}

interface Template {
  metadata?: { labels?: Record<string, string> };
  spec: { containers: { securityContext?: Record<string, unknown> }[] };
}

interface Workload {
  metadata: { name: string; namespace: string };
  spec: { template: Template };
}

async function first(cluster: Cluster, resource: string): Promise<Record<string, unknown> | undefined> {
  return (await list(cluster, resource))[0] as Record<string, unknown> | undefined;
}

/** A ReplicaSet running a copy of `workload`'s pod template, changed by `change`. */
function brokenReplicaSet(workload: Workload, name: string, replicas: number, change: (t: Template) => void) {
  const template = structuredClone(workload.spec.template);
  const labels = { "doc-rag.io/e2e-broken-copy": name };
  template.metadata = { ...template.metadata, labels };
  change(template);
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name, namespace: workload.metadata.namespace, labels },
    spec: { replicas, selector: { matchLabels: labels }, template },
  };
}

async function podsCheck(
  cluster: Cluster,
  what: string,
  replicaSet: ReturnType<typeof brokenReplicaSet>,
  expected: RegExp,
): Promise<SelfCheck> {
  const created = await cluster.kubectl(["create", "-f", "-"], JSON.stringify(replicaSet));
  if (created.code !== 0)
    return { what, detected: false, message: `the copy was not created: ${created.stderr.trim()}` };
  const [pods] = await waitForPods(
    cluster,
    [{ kind: "ReplicaSet", namespace: replicaSet.metadata.namespace, name: replicaSet.metadata.name }],
    60,
  );
  await cluster.kubectl([
    "delete",
    "replicaset",
    replicaSet.metadata.name,
    "-n",
    replicaSet.metadata.namespace,
    "--wait=false",
  ]);
  const message = pods?.refused ?? `${pods?.ready ?? 0}/${pods?.desired ?? 0} pods Ready and nothing refused`;
  return { what, detected: expected.test(message), message };
}

/** Runs the three broken copies against the cluster the program was deployed to. */
export async function selfCheck(cluster: Cluster): Promise<SelfCheck[]> {
  const workload = ((await first(cluster, "deployments.apps")) ?? (await first(cluster, "rollouts.argoproj.io"))) as
    Workload | undefined;
  const monitor = await first(cluster, "servicemonitors.monitoring.coreos.com");
  if (!workload || !monitor) {
    return [{ what: "broken copies", detected: false, message: "no Deployment, Rollout or ServiceMonitor to copy" }];
  }
  const checks: SelfCheck[] = [];
  checks.push(
    await podsCheck(
      cluster,
      `quota: 200 pods of ${workload.metadata.namespace}/${workload.metadata.name}'s template`,
      brokenReplicaSet(workload, "e2e-broken-quota", 200, () => undefined),
      /exceeded quota/,
    ),
  );
  checks.push(
    await podsCheck(
      cluster,
      `Pod Security: ${workload.metadata.name}'s pods allowed privilege escalation and NET_RAW`,
      brokenReplicaSet(workload, "e2e-broken-pod-security", 1, (t) => {
        for (const c of t.spec.containers)
          c.securityContext = {
            ...c.securityContext,
            allowPrivilegeEscalation: true,
            capabilities: { add: ["NET_RAW"] },
          };
      }),
      /violates PodSecurity/,
    ),
  );
  const metadata = monitor["metadata"] as { name: string; namespace: string };
  const broken = {
    apiVersion: monitor["apiVersion"],
    kind: monitor["kind"],
    metadata: { name: "e2e-broken-crd", namespace: metadata.namespace },
    spec: { ...(monitor["spec"] as Record<string, unknown>), endpoints: "every pod" },
  };
  const refused = await cluster.kubectl(["create", "-f", "-"], JSON.stringify(broken));
  if (refused.code === 0) await cluster.kubectl(["delete", "-f", "-"], JSON.stringify(broken));
  checks.push({
    what: `CRD schema: ServiceMonitor ${metadata.namespace}/${metadata.name} with spec.endpoints a string`,
    detected: refused.code !== 0 && /spec\.endpoints/.test(refused.stderr),
    message: refused.code === 0 ? "the API server accepted it" : refused.stderr.trim(),
  });
  return checks;
}
