/**
 * Vault, as the Pulumi Vault provider declares it: policies grant least privilege, KV mounts
 * keep versions, and Kubernetes auth roles bind named service accounts with short-lived tokens.
 */
import { parse } from "@cdktf/hcl2json";
import { resourceRule } from "./lib/policy";

const POLICY = "vault:index/policy:Policy";
const MOUNT = "vault:index/mount:Mount";
const KUBERNETES_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole";

const WRITE_CAPABILITIES = new Set(["create", "update", "patch", "delete"]);

interface PathRule {
  capabilities?: string[];
}

/** The `path "…" { capabilities = [...] }` blocks of a Vault policy document. */
export async function policyPaths(name: string, document: string): Promise<Record<string, PathRule[]>> {
  const parsed = (await parse(`${name}.hcl`, document)) as { path?: Record<string, PathRule[]> };
  return parsed.path ?? {};
}

export const vaultPolicyLeastPrivilege = resourceRule({
  name: "vault-policy-least-privilege",
  description:
    "No Vault policy grants sudo, and no path with a glob (* or +) grants write capabilities (create, update, patch, delete).",
  category: "security",
  types: [POLICY],
  check: async (props) => {
    const { name = "(unnamed)", policy = "" } = props as { name?: string; policy?: string };
    let paths: Record<string, PathRule[]>;
    try {
      paths = await policyPaths(name, policy);
    } catch (err) {
      return [`Vault policy ${name} does not parse as HCL: ${(err as Error).message}`];
    }
    return Object.entries(paths).flatMap(([path, rules]) => {
      const capabilities = rules.flatMap((rule) => rule.capabilities ?? []);
      const problems: string[] = [];
      if (capabilities.includes("sudo")) problems.push(`Vault policy ${name}: path "${path}" grants sudo`);
      const writes = capabilities.filter((c) => WRITE_CAPABILITIES.has(c));
      if (/[*+]/.test(path) && writes.length)
        problems.push(
          `Vault policy ${name}: glob path "${path}" grants ${writes.join(", ")}; name the paths that may be written`,
        );
      return problems;
    });
  },
});

export const vaultKvVersion2 = resourceRule({
  name: "vault-kv-version-2",
  description:
    'KV secrets engines are version 2 (type kv-v2, or kv with options.version "2"), so every secret keeps its history and can be restored.',
  category: "security",
  types: [MOUNT],
  check: (props, _config, args) => {
    const { path, type, options } = props as { path?: string; type?: string; options?: Record<string, string> };
    if (type !== "kv" && type !== "kv-v2") return args.notApplicable(`mount type ${type} is not KV`);
    return type === "kv-v2" || String(options?.version) === "2"
      ? []
      : [`Vault mount ${path}: KV version 1; set type kv-v2 or options.version "2"`];
  },
});

interface RoleConfig {
  maxTokenTtlSeconds: number;
}

export const vaultKubernetesRoleBound = resourceRule<RoleConfig>({
  name: "vault-kubernetes-role-bound",
  description:
    "Kubernetes auth roles bind explicit service-account names and namespaces (no *, no namespace selector) and issue tokens with a bounded TTL.",
  category: "security",
  types: [KUBERNETES_ROLE],
  configSchema: {
    properties: {
      maxTokenTtlSeconds: {
        type: "integer",
        minimum: 60,
        default: 3600,
        description: "Longest token TTL (and max TTL) a role may issue.",
      },
    },
  },
  check: (props, config) => {
    const role = props as {
      roleName?: string;
      boundServiceAccountNames?: string[];
      boundServiceAccountNamespaces?: string[];
      boundServiceAccountNamespaceSelector?: string;
      tokenTtl?: number;
      tokenMaxTtl?: number;
    };
    const name = role.roleName ?? "(unnamed)";
    const problems: string[] = [];
    for (const field of ["boundServiceAccountNames", "boundServiceAccountNamespaces"] as const) {
      const values = role[field] ?? [];
      if (!values.length || values.some((v) => v.includes("*")))
        problems.push(`Vault role ${name}: ${field} must list explicit names (got ${JSON.stringify(values)})`);
    }
    if (role.boundServiceAccountNamespaceSelector)
      problems.push(
        `Vault role ${name}: boundServiceAccountNamespaceSelector widens the binding; list namespaces instead`,
      );
    for (const field of ["tokenTtl", "tokenMaxTtl"] as const) {
      const ttl = role[field];
      if (!ttl || ttl > config.maxTokenTtlSeconds)
        problems.push(
          `Vault role ${name}: ${field} is ${ttl ?? "unset"}; required: 1–${config.maxTokenTtlSeconds} seconds`,
        );
    }
    return problems;
  },
});

export const vaultPolicies = [vaultPolicyLeastPrivilege, vaultKvVersion2, vaultKubernetesRoleBound];
