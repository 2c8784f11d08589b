/**
 * Rules about the stack as a whole: what every namespace must contain, what every production
 * workload needs beside it, what must be protected, and what must wait for what.
 */
import type { PolicyResource } from "@pulumi/policy";
import {
  HELM_RELEASE,
  isCustomResource,
  isNamespaced,
  NAMESPACE,
  parseKubernetesType,
  type KubernetesProps,
} from "./lib/kubernetes";
import { failing, stackRule } from "./lib/policy";
import { chartName, DATA_SERVICE_CHARTS, type ReleaseProps } from "./helm";

const meta = (r: PolicyResource) => (r.props as KubernetesProps).metadata ?? {};
const inNamespace = (r: PolicyResource, namespace: string | undefined) => meta(r).namespace === namespace;

const isDefaultDeny = (r: PolicyResource) => {
  const spec =
    (
      r.props as {
        spec?: {
          podSelector?: { matchLabels?: object; matchExpressions?: unknown[] };
          policyTypes?: string[];
          ingress?: unknown[];
          egress?: unknown[];
        };
      }
    ).spec ?? {};
  const selectsAll =
    !Object.keys(spec.podSelector?.matchLabels ?? {}).length && !spec.podSelector?.matchExpressions?.length;
  const types = spec.policyTypes ?? [];
  return (
    selectsAll && types.includes("Ingress") && types.includes("Egress") && !spec.ingress?.length && !spec.egress?.length
  );
};

export const namespaceGuardrails = stackRule({
  name: "namespace-guardrails",
  description:
    "Every namespace the stack creates also gets a ResourceQuota, a LimitRange and a default-deny NetworkPolicy (all pods, Ingress and Egress, no rules).",
  category: "security",
  validateStack: (args, reportViolation) => {
    // One pass to index by type and namespace: checking each namespace against every
    // resource would be quadratic in the stack's size.
    const index = new Map<string, PolicyResource[]>();
    const keyOf = (type: string, namespace: string | undefined) => `${type}\u0000${namespace ?? ""}`;
    for (const r of args.resources) {
      const key = keyOf(r.type, meta(r).namespace);
      const bucket = index.get(key);
      if (bucket) bucket.push(r);
      else index.set(key, [r]);
    }
    const byType = (type: string, namespace: string | undefined) => index.get(keyOf(type, namespace)) ?? [];
    for (const ns of args.resources.filter((r) => r.type === NAMESPACE)) {
      const name = meta(ns).name;
      const missing = failing(
        !byType("kubernetes:core/v1:ResourceQuota", name).length && "a ResourceQuota",
        !byType("kubernetes:core/v1:LimitRange", name).length && "a LimitRange",
        !byType("kubernetes:networking.k8s.io/v1:NetworkPolicy", name).some(isDefaultDeny) &&
          "a default-deny NetworkPolicy",
      );
      if (missing.length) reportViolation(`namespace ${name} has no ${missing.join(", no ")}`, ns.urn);
    }
  },
});

const RESILIENT_KINDS = new Set(["Deployment", "StatefulSet", "Rollout"]);

export const workloadResilience = stackRule({
  name: "workload-resilience",
  description:
    "Every Deployment, StatefulSet and Rollout has a PodDisruptionBudget selecting its pods and a HorizontalPodAutoscaler targeting it. Mandatory in production.",
  category: "operations",
  validateStack: (args, reportViolation) => {
    const pdbs = args.resources.filter((r) => r.type === "kubernetes:policy/v1:PodDisruptionBudget");
    const hpas = args.resources.filter((r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
    for (const workload of args.resources) {
      const kind = parseKubernetesType(workload.type)?.kind;
      if (!kind || !RESILIENT_KINDS.has(kind)) continue;
      const { name, namespace } = meta(workload);
      const podLabels =
        (workload.props as { spec?: { template?: { metadata?: { labels?: Record<string, string> } } } }).spec?.template
          ?.metadata?.labels ?? {};
      const selects = (pdb: PolicyResource) => {
        const selector =
          (pdb.props as { spec?: { selector?: { matchLabels?: Record<string, string> } } }).spec?.selector
            ?.matchLabels ?? {};
        return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
      };
      const targets = (hpa: PolicyResource) => {
        const ref = (hpa.props as { spec?: { scaleTargetRef?: { kind?: string; name?: string } } }).spec
          ?.scaleTargetRef;
        return ref?.kind === kind && ref.name === name;
      };
      const missing = failing(
        !pdbs.some((p) => inNamespace(p, namespace) && selects(p)) && "a PodDisruptionBudget selecting its pods",
        !hpas.some((h) => inNamespace(h, namespace) && targets(h)) && "a HorizontalPodAutoscaler targeting it",
      );
      if (missing.length)
        reportViolation(`${kind} ${namespace}/${name} has no ${missing.join(" and no ")}`, workload.urn);
    }
  },
});

interface ProtectionConfig {
  statefulTypes: string[];
  dataCharts: string[];
}

export const statefulResourcesProtected = stackRule({
  name: "stateful-resources-protected",
  description:
    "Resources that hold data (data-service releases, volumes, Vault mounts, the repository) are protected, so a preview can never plan their deletion.",
  category: "security",
  configSchema: {
    properties: {
      statefulTypes: {
        type: "array",
        items: { type: "string" },
        default: [
          "kubernetes:core/v1:PersistentVolumeClaim",
          "kubernetes:core/v1:PersistentVolume",
          "kubernetes:postgresql.cnpg.io/v1:Cluster",
          "vault:index/mount:Mount",
          "vault:kv/secretBackendV2:SecretBackendV2",
          "vault:kv/secretV2:SecretV2",
          "github:index/repository:Repository",
        ],
        description: "Type tokens of resources that hold data.",
      },
      dataCharts: {
        type: "array",
        items: { type: "string" },
        default: Object.keys(DATA_SERVICE_CHARTS),
        description: "Charts whose releases hold data.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const config = args.getConfig<ProtectionConfig>();
    for (const r of args.resources) {
      const stateful =
        config.statefulTypes.includes(r.type) ||
        (r.type === HELM_RELEASE && config.dataCharts.includes(chartName(r.props as ReleaseProps)));
      if (stateful && !r.opts.protect)
        reportViolation(`${r.type} ${r.name} holds data but is not protected (set protect and retainOnDelete)`, r.urn);
    }
  },
});

export const noDefaultNamespace = stackRule({
  name: "no-default-namespace",
  description:
    "Nothing lands in the default namespace: every namespaced object and Helm release names its namespace, and it is not `default`.",
  category: "security",
  validateStack: (args, reportViolation) => {
    for (const r of args.resources) {
      const type = parseKubernetesType(r.type);
      const namespace =
        r.type === HELM_RELEASE
          ? (r.props as ReleaseProps).namespace
          : type && isNamespaced(type)
            ? meta(r).namespace
            : null;
      if (namespace === null) continue;
      if (!namespace || namespace === "default")
        reportViolation(`${r.type} ${r.name} is in the default namespace; set its namespace`, r.urn);
    }
  },
});

interface CrdConfig {
  crdSources: Record<string, string[]>;
  crdsInstalledBefore: string[];
}

/** Every resource `start` waits for, directly or through others. */
function transitiveDependencies(start: PolicyResource): PolicyResource[] {
  const seen = new Set<string>();
  const stack = [...start.dependencies];
  const found: PolicyResource[] = [];
  for (let next = stack.pop(); next; next = stack.pop()) {
    if (seen.has(next.urn)) continue;
    seen.add(next.urn);
    found.push(next);
    stack.push(...next.dependencies);
  }
  return found;
}

export const customResourcesAfterCrds = stackRule({
  name: "custom-resources-after-crds",
  description:
    "Every custom resource depends (directly or through others) on the Helm release or CustomResourceDefinition that installs its CRD, so the first deployment does not race the operator.",
  category: "operations",
  configSchema: {
    properties: {
      crdSources: {
        type: "object",
        additionalProperties: { type: "array", items: { type: "string" } },
        default: {
          "argoproj.io": ["argo-rollouts"],
          "cert-manager.io": ["cert-manager"],
          "external-secrets.io": ["external-secrets"],
          "gateway.envoyproxy.io": ["gateway-helm"],
          "gateway.networking.k8s.io": ["gateway-helm"],
          "monitoring.coreos.com": ["prometheus-operator-crds", "kube-prometheus-stack"],
          "opentelemetry.io": ["opentelemetry-operator"],
          "postgresql.cnpg.io": ["cloudnative-pg"],
        },
        description: "API group → charts (or resource names) that install its CRDs.",
      },
      crdsInstalledBefore: {
        type: "array",
        items: { type: "string" },
        default: ["doc-rag-data", "doc-rag-app"],
        description:
          "Projects whose stacks run where another stack has already installed every CRD: the data and app projects, brought up after the cluster project (and review stacks, on a cluster another stack owns). Their custom resources need no dependency on an installer; at preview the engine shows a stack policy no dependency on a read (a StackReference, a CRD read), so none could be seen.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const { crdSources, crdsInstalledBefore } = args.getConfig<CrdConfig>();
    for (const r of args.resources) {
      const type = parseKubernetesType(r.type);
      if (!type || !isCustomResource(type)) continue;
      // The project, from the URN (urn:pulumi:<stack>::<project>::…).
      if (crdsInstalledBefore.includes(r.urn.split("::")[1] ?? "")) continue;
      const sources = crdSources[type.group];
      if (!sources) {
        reportViolation(
          `${r.type} ${r.name}: no known source for the CRDs of ${type.group}; add it to crdSources`,
          r.urn,
        );
        continue;
      }
      const installs = (d: PolicyResource) =>
        (d.type === HELM_RELEASE && sources.includes(chartName(d.props as ReleaseProps))) ||
        (d.type === "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition" &&
          (d.props as { spec?: { group?: string } }).spec?.group === type.group) ||
        sources.includes(d.name);
      if (!transitiveDependencies(r).some(installs)) {
        reportViolation(
          `${r.type} ${r.name} does not depend on what installs its CRD (${sources.join(" or ")}); add dependsOn`,
          r.urn,
        );
      }
    }
  },
});

export const stackPolicies = [
  namespaceGuardrails,
  workloadResilience,
  statefulResourcesProtected,
  noDefaultNamespace,
  customResourcesAfterCrds,
];
