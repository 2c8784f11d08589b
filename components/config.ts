/**
 * The one place that reads Pulumi config. Every key of the stack is declared here with
 * its schema and defaults; `loadConfig` turns the raw stack config into one typed object
 * or throws a `ConfigError` that lists every problem at once, before any resource exists.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { isQuantity, quantityValue } from "./quantity";

export const PROJECT = "doc-rag";

export const ENVIRONMENTS = ["dev", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The platform's namespaces, each for one kind of workload. */
export const NAMESPACE_ROLES = ["application", "data", "monitoring", "security", "delivery", "gateway"] as const;
export type NamespaceRole = (typeof NAMESPACE_ROLES)[number];

/** Pod Security Standards levels, loosest first. */
export const POD_SECURITY_LEVELS = ["privileged", "baseline", "restricted"] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

/** The oldest Kubernetes minor version with Pod Security Admission GA (PSP's removal). */
export const MIN_KUBERNETES_MINOR = 25;

/** A strict object whose errors list the keys that are allowed. */
function strictObject<T extends z.ZodRawShape>(shape: T) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys") {
        return `unknown key ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}; allowed keys: ${allowed}`;
      }
      return issue.code === "invalid_type" ? `must be an object with keys among: ${allowed}` : undefined;
    },
  });
}

const quantity = z
  .union([z.number().nonnegative("must not be negative"), z.string()], {
    error: "must be a Kubernetes quantity such as 500m, 2 or 4Gi",
  })
  .transform(String)
  .refine(isQuantity, "must be a Kubernetes quantity such as 500m, 2 or 4Gi");

const count = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)], {
    error: "must be a whole number of objects, such as 10",
  })
  .transform(String);

const dnsLabel = z
  .string({ error: "must be a string" })
  .regex(
    /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
    "must be a DNS label: lower-case letters, digits and '-', at most 63 characters",
  );

/** True when both are quantities and the first is larger; malformed ones are reported elsewhere. */
function exceeds(low: string | undefined, high: string | undefined): boolean {
  return !!low && !!high && isQuantity(low) && isQuantity(high) && quantityValue(low) > quantityValue(high);
}

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
  "requests.memory": quantity.optional(),
  "limits.cpu": quantity.optional(),
  "limits.memory": quantity.optional(),
  "requests.storage": quantity.optional(),
  "requests.ephemeral-storage": quantity.optional(),
  "limits.ephemeral-storage": quantity.optional(),
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

const cpuMemory = strictObject({ cpu: quantity, memory: quantity });

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

function namespaceSchema(role: NamespaceRole) {
  return strictObject({
    name: dnsLabel.default(role === "application" ? PROJECT : `${PROJECT}-${role}`),
    stateful: z.boolean({ error: "must be true or false" }).default(role === "data" || role === "monitoring"),
    podSecurity: podSecuritySchema.prefault({}),
    quota: quotaSchema.prefault(DEFAULT_QUOTA),
    limits: limitRangeSchema.prefault({}),
  });
}

const namespaceEntry = (role: NamespaceRole) => namespaceSchema(role).prefault({});

const namespacesSchema = strictObject(
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

const clusterDnsSchema = strictObject({
  namespace: dnsLabel.default("kube-system"),
  podLabels: z.record(z.string(), z.string()).default({ "k8s-app": "kube-dns" }),
});

/** How a key's raw config string is decoded; also its declared type in Pulumi.yaml. */
export type ConfigKeyKind = "string" | "boolean" | "object";

interface ConfigKey<S extends z.ZodType> {
  kind: ConfigKeyKind;
  schema: S;
  description: string;
}

function key<S extends z.ZodType>(kind: ConfigKeyKind, schema: S, description: string): ConfigKey<S> {
  return { kind, schema, description };
}

/** Every top-level key of the `doc-rag:` config namespace. */
export const CONFIG_KEYS = {
  environment: key(
    "string",
    z.enum(ENVIRONMENTS, { error: `must be one of: ${ENVIRONMENTS.join(", ")}` }),
    "Which environment this stack is: dev, staging or production. Selects HA, protection and delivery strategy.",
  ),
  clusterName: key(
    "string",
    dnsLabel.optional(),
    "Name of the cluster, used in labels and metrics. Default: doc-rag-<environment>.",
  ),
  kubeContext: key(
    "string",
    z.string().min(1, "must not be empty").optional(),
    "kubeconfig context of the target cluster. Default: the kubeconfig's current context.",
  ),
  kubeconfig: key(
    "string",
    z.string().min(1, "must not be empty").optional(),
    "Path to (or contents of) the kubeconfig. Default: $KUBECONFIG or ~/.kube/config.",
  ),
  kubernetesVersion: key(
    "string",
    z
      .string({ error: 'must be a quoted string such as "1.36" (unquoted, YAML reads 1.30 as 1.3)' })
      .regex(/^1\.\d+$/, 'must be a Kubernetes minor version such as "1.36"')
      .refine(
        (v) => Number(v.split(".")[1]) >= MIN_KUBERNETES_MINOR,
        `must be 1.${MIN_KUBERNETES_MINOR} or newer (Pod Security Admission)`,
      )
      .default("1.36"),
    "Kubernetes minor version of the cluster; pins the Pod Security Admission version labels (v<version>).",
  ),
  storageClass: key(
    "string",
    dnsLabel.default("standard"),
    "StorageClass for persistent volumes (the original document uses fast-ssd).",
  ),
  protectStatefulResources: key(
    "boolean",
    z.boolean({ error: "must be true or false" }).optional(),
    "protect and retainOnDelete on resources that hold data. Default: true outside dev.",
  ),
  clusterDns: key(
    "object",
    clusterDnsSchema.prefault({}),
    "Where the cluster DNS pods run: {namespace, podLabels}; every namespace may reach them on port 53.",
  ),
  namespaces: key(
    "object",
    namespacesSchema.prefault({}),
    `The platform namespaces by role (${NAMESPACE_ROLES.join(", ")}): {name, stateful, podSecurity, quota, limits}.`,
  ),
};

type Keys = typeof CONFIG_KEYS;

const stackSchema = z
  .strictObject(
    Object.fromEntries(Object.entries(CONFIG_KEYS).map(([name, k]) => [name, k.schema])) as {
      [K in keyof Keys]: Keys[K]["schema"];
    },
  )
  .superRefine((cfg, ctx) => {
    if (cfg.environment !== "dev" && !cfg.kubeContext && !cfg.kubeconfig) {
      ctx.addIssue({
        code: "custom",
        path: ["kubeContext"],
        input: undefined,
        message: `must be set (or kubeconfig) in ${cfg.environment}, so the stack never deploys to whatever context is current`,
      });
    }
  })
  .transform((cfg) => ({
    ...cfg,
    clusterName: cfg.clusterName ?? `${PROJECT}-${cfg.environment}`,
    protectStatefulResources: cfg.protectStatefulResources ?? cfg.environment !== "dev",
  }));

export type StackConfig = z.output<typeof stackSchema>;
export type NamespaceConfig = StackConfig["namespaces"][NamespaceRole];

/** A stack configuration that cannot be used; `problems` has one line per bad key. */
export class ConfigError extends pulumi.RunError {
  constructor(readonly problems: string[]) {
    super(
      `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }

  /** True for a ConfigError from any copy of this module (tests load the program afresh). */
  static is(err: unknown): err is ConfigError {
    return err instanceof Error && err.name === "ConfigError" && Array.isArray((err as ConfigError).problems);
  }
}

function describeValue(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

function keyPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => {
      const s = String(part);
      if (i === 0) return `${PROJECT}:${s}`;
      return /^[A-Za-z_][\w-]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
    })
    .join("");
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const where = keyPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return `${where}: ${issue.message}`;
  }
  const input = (issue as { input?: unknown }).input;
  if (input === undefined) {
    return `${where}: is required; ${issue.message.replace(/^Invalid input: /, "")}`;
  }
  return `${where}: ${issue.message} (got ${describeValue(input)})`;
}

function decode(kind: ConfigKeyKind, raw: string): unknown {
  if (kind === "string") return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw; // the schema reports it with the value as written
  }
}

/**
 * Validates raw stack config (`doc-rag:key` → string, as Pulumi hands it to the program).
 * Pure: tests and tools may call it directly.
 */
export function parseConfig(raw: Record<string, string>): StackConfig {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  const allowed = Object.keys(CONFIG_KEYS);
  for (const [fullKey, value] of Object.entries(raw)) {
    const [namespace, name] = fullKey.split(":", 2) as [string, string | undefined];
    if (namespace !== PROJECT || name === undefined) continue; // other packages' keys
    const declared = CONFIG_KEYS[name as keyof Keys] as ConfigKey<z.ZodType> | undefined;
    if (!declared) {
      problems.push(`${fullKey}: unknown key (got ${describeValue(value)}); allowed keys: ${allowed.join(", ")}`);
      continue;
    }
    values[name] = decode(declared.kind, value);
  }
  const result = stackSchema.safeParse(values, { reportInput: true });
  if (!result.success) {
    problems.push(...result.error.issues.map(formatIssue));
  }
  if (problems.length > 0 || !result.success) {
    throw new ConfigError(problems);
  }
  return result.data;
}

/** Reads and validates this stack's config; throws before anything is registered. */
export function loadConfig(): StackConfig {
  return parseConfig(pulumi.runtime.allConfig());
}
