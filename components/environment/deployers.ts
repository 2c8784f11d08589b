/**
 * The identities the data and app projects deploy with, created by the cluster project: a
 * ServiceAccount each, bound by a Role in exactly the namespace its layer writes, to exactly the
 * kinds its objects (and its charts' manifests) are. Nothing cluster-wide: a Role cannot grant a
 * CustomResourceDefinition or a ClusterRole, and no ClusterRoleBinding names them. Vault and
 * GitHub are not Kubernetes identities at all: those credentials stay with the cluster and
 * governance projects.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { NamespaceRole } from "../config/names";
import { standardLabels } from "../labels";
import type { PlatformNamespaces } from "../platform/namespaces";
import type { Layer } from "./projects";

/** One RBAC rule: API group, resources, verbs. */
export interface AccessRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** What the deployer changes, and what it only reads (the provider's readiness checks, Helm's hooks). */
const MANAGE = ["get", "list", "watch", "create", "update", "patch", "delete"];
const READ = ["get", "list", "watch"];

/** Each deploying layer: where its objects go, and the kinds they are. */
export const DEPLOYERS: Readonly<
  Partial<Record<Layer, { namespace: NamespaceRole; serviceAccount: string; rules: readonly AccessRule[] }>>
> = {
  data: {
    namespace: "data",
    serviceAccount: "doc-rag-data-deployer",
    rules: [
      // Helm keeps each release's record in a Secret of its namespace; the charts add their own.
      { apiGroups: [""], resources: ["configmaps", "secrets", "services", "serviceaccounts", "pods"], verbs: MANAGE },
      { apiGroups: [""], resources: ["endpoints", "events", "persistentvolumeclaims"], verbs: READ },
      { apiGroups: ["apps"], resources: ["statefulsets"], verbs: MANAGE },
      { apiGroups: ["batch"], resources: ["jobs"], verbs: MANAGE },
      { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: MANAGE },
      { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: MANAGE },
      {
        apiGroups: ["monitoring.coreos.com"],
        resources: ["servicemonitors", "podmonitors", "prometheusrules"],
        verbs: MANAGE,
      },
      { apiGroups: ["postgresql.cnpg.io"], resources: ["clusters", "scheduledbackups", "backups"], verbs: MANAGE },
    ],
  },
  app: {
    namespace: "application",
    serviceAccount: "doc-rag-app-deployer",
    rules: [
      { apiGroups: [""], resources: ["configmaps", "services", "serviceaccounts"], verbs: MANAGE },
      // What the provider watches while it waits: a Service's endpoints, a Deployment's pods and claims
      // (its await lists PersistentVolumeClaims, and stalls without them), their events.
      { apiGroups: [""], resources: ["endpoints", "pods", "events", "persistentvolumeclaims"], verbs: READ },
      // Dev runs plain Deployments; elsewhere Rollouts, whose ReplicaSets the provider only reads.
      { apiGroups: ["apps"], resources: ["deployments"], verbs: MANAGE },
      { apiGroups: ["apps"], resources: ["replicasets"], verbs: READ },
      { apiGroups: ["argoproj.io"], resources: ["rollouts", "analysistemplates"], verbs: MANAGE },
      { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: MANAGE },
      { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: MANAGE },
      { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: MANAGE },
    ],
  },
};

/** A deployer as the cluster stack exports it: where its ServiceAccount is and where it may write. */
export interface DeployerIdentity {
  serviceAccount: string;
  namespace: string;
  writes: string;
}

/**
 * The data and app deployers: their ServiceAccounts in the delivery namespace (the home of the
 * delivery machinery), each bound to its Role in its own namespace. Returned for the stack's
 * outputs: a token for each is minted with `kubectl create token` (docs/operations.md).
 */
export function deployerIdentities(
  config: StackConfig,
  platform: PlatformNamespaces,
  provider: k8s.Provider,
): pulumi.Output<Partial<Record<Layer, DeployerIdentity>>> {
  const opts = { provider };
  const home = platform.names.delivery;
  const identities = Object.entries(DEPLOYERS).map(([layer, deployer]) => {
    const labels = standardLabels(`${layer}-deployer`, config.environment);
    const writes = platform.names[deployer.namespace];
    const account = new k8s.core.v1.ServiceAccount(
      `${layer}-deployer`,
      { metadata: { name: deployer.serviceAccount, namespace: home, labels }, automountServiceAccountToken: false },
      opts,
    );
    const role = new k8s.rbac.v1.Role(
      `${layer}-deployer`,
      { metadata: { name: deployer.serviceAccount, namespace: writes, labels }, rules: [...deployer.rules] },
      opts,
    );
    new k8s.rbac.v1.RoleBinding(
      `${layer}-deployer`,
      {
        metadata: { name: deployer.serviceAccount, namespace: writes, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: home }],
      },
      opts,
    );
    return pulumi
      .all([account.metadata.name, home, writes])
      .apply(([serviceAccount, namespace, w]) => [layer, { serviceAccount, namespace, writes: w }] as const);
  });
  return pulumi.all(identities).apply((pairs) => Object.fromEntries(pairs));
}
