/** The platform namespaces: names, Pod Security levels, quotas and limit ranges by role. */
import { z } from "zod";
import { NAMESPACE_ROLES, POD_SECURITY_LEVELS, PROJECT, type NamespaceRole, type PodSecurityLevel } from "./names";
import { bytes, count, cpuMemory, dnsLabel, exceeds, labelMap, quantity, strictObject } from "./primitives";

/** requests.x must not exceed limits.x for the same resource. */
function requestsWithinLimits(
  hard: Record<string, string | undefined>,
  ctx: z.RefinementCtx,
  resources: readonly string[],
) {
  for (const resource of resources) {
    const request = hard[`requests.${resource}`];
    const limit = hard[`limits.${resource}`];
    if (exceeds(request, limit)) {
      ctx.addIssue({
        code: "custom",
        path: [`requests.${resource}`],
        input: request,
        message: `must not exceed limits.${resource} (${limit})`,
      });
    }
  }
}

const quotaSchema = strictObject({
  "requests.cpu": quantity.optional(),
  "requests.memory": bytes.optional(),
  "limits.cpu": quantity.optional(),
  "limits.memory": bytes.optional(),
  "requests.storage": bytes.optional(),
  "requests.ephemeral-storage": bytes.optional(),
  "limits.ephemeral-storage": bytes.optional(),
  "requests.nvidia.com/gpu": count.optional(),
  persistentvolumeclaims: count.optional(),
  pods: count.optional(),
  services: count.optional(),
  "services.loadbalancers": count.optional(),
  "services.nodeports": count.optional(),
  secrets: count.optional(),
  configmaps: count.optional(),
}).superRefine((hard, ctx) => requestsWithinLimits(hard, ctx, ["cpu", "memory", "ephemeral-storage"]));

/** Applied when a namespace's quota is not configured: enough for a laptop, not more. */
export const DEFAULT_QUOTA = {
  "requests.cpu": "2",
  "requests.memory": "4Gi",
  "limits.cpu": "4",
  "limits.memory": "8Gi",
  persistentvolumeclaims: "5",
  services: "10",
  secrets: "20",
  configmaps: "20",
};

const limitRangeSchema = strictObject({
  defaultRequest: cpuMemory.prefault({ cpu: "100m", memory: "128Mi" }),
  default: cpuMemory.prefault({ cpu: "500m", memory: "512Mi" }),
  max: cpuMemory.optional(),
}).superRefine((limits, ctx) => {
  for (const resource of ["cpu", "memory"] as const) {
    const pairs: [string, string | undefined, string, string | undefined][] = [
      ["defaultRequest", limits.defaultRequest[resource], "default", limits.default[resource]],
      ["default", limits.default[resource], "max", limits.max?.[resource]],
    ];
    for (const [lowName, low, highName, high] of pairs) {
      if (exceeds(low, high)) {
        ctx.addIssue({
          code: "custom",
          path: [lowName, resource],
          input: low,
          message: `must not exceed ${highName}.${resource} (${high})`,
        });
      }
    }
  }
});

const levelSchema = z.enum(POD_SECURITY_LEVELS, {
  error: `must be one of: ${POD_SECURITY_LEVELS.join(", ")}`,
});

const podSecuritySchema = strictObject({
  enforce: levelSchema.default("restricted"),
  audit: levelSchema.default("restricted"),
  warn: levelSchema.default("restricted"),
  reason: z.string().trim().min(10, "must say in a sentence why the level is lowered").optional(),
}).superRefine((ps, ctx) => {
  const rank = (level: PodSecurityLevel) => POD_SECURITY_LEVELS.indexOf(level);
  const lowered = (["enforce", "audit", "warn"] as const).filter((mode) => ps[mode] !== "restricted");
  if (lowered.length > 0 && !ps.reason) {
    ctx.addIssue({
      code: "custom",
      path: ["reason"],
      input: ps.reason,
      message: `is required when ${lowered.join(", ")} is below restricted: record why the namespace needs it`,
    });
  }
  for (const mode of ["audit", "warn"] as const) {
    if (rank(ps[mode]) < rank(ps.enforce)) {
      ctx.addIssue({
        code: "custom",
        path: [mode],
        input: ps[mode],
        message: `must be at least as strict as enforce (${ps.enforce}), or it reports nothing`,
      });
    }
  }
});

/**
 * Node-level agents (node-exporter, log shippers, runtime security) read the host's network,
 * processes and files: no Pod Security level short of privileged admits them. Their namespace
 * holds nothing else.
 */
export const NODE_AGENTS_POD_SECURITY = {
  enforce: "privileged",
  audit: "privileged",
  warn: "privileged",
  reason:
    "Node-level agents (node-exporter, Fluent Bit, Falco) need the host's network, PID namespace and paths; nothing else runs here.",
} as const;

/** `nodeAgents` → `doc-rag-node-agents`; the application namespace is the project's own name. */
export function defaultNamespaceName(role: NamespaceRole): string {
  return role === "application" ? PROJECT : `${PROJECT}-${role.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Namespaces Kubernetes keeps for itself: the platform would put a quota and a default deny there. */
const platformNamespaceName = dnsLabel.refine(
  (n) => n !== "default" && !n.startsWith("kube-"),
  "must not be a namespace Kubernetes keeps for itself (default, kube-*): the platform puts a quota and a default-deny policy in each of its namespaces",
);

function namespaceSchema(role: NamespaceRole) {
  return strictObject({
    name: platformNamespaceName.default(defaultNamespaceName(role)),
    stateful: z.boolean({ error: "must be true or false" }).default(role === "data" || role === "monitoring"),
    podSecurity: podSecuritySchema.prefault(role === "nodeAgents" ? NODE_AGENTS_POD_SECURITY : {}),
    quota: quotaSchema.prefault(DEFAULT_QUOTA),
    limits: limitRangeSchema.prefault({}),
  });
}

const namespaceEntry = (role: NamespaceRole) => namespaceSchema(role).prefault({});

export const namespacesSchema = strictObject(
  Object.fromEntries(NAMESPACE_ROLES.map((role) => [role, namespaceEntry(role)])) as {
    [R in NamespaceRole]: ReturnType<typeof namespaceEntry>;
  },
).superRefine((namespaces, ctx) => {
  const seen = new Map<string, string>();
  for (const role of NAMESPACE_ROLES) {
    const name = namespaces[role].name;
    const other = seen.get(name);
    if (other) {
      ctx.addIssue({
        code: "custom",
        path: [role, "name"],
        input: name,
        message: `is already the name of the ${other} namespace; each namespace needs its own`,
      });
    }
    seen.set(name, role);
  }
});

export const clusterDnsSchema = strictObject({
  namespace: dnsLabel.default("kube-system"),
  podLabels: labelMap.default({ "k8s-app": "kube-dns" }),
});
