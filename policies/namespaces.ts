/** Namespaces: Pod Security Admission enforces `restricted` unless the policy config exempts one. */
import { NAMESPACE, type KubernetesProps } from "./lib/kubernetes";
import { NAMESPACE_REASONS_SCHEMA, resourceRule } from "./lib/policy";

const ENFORCE = "pod-security.kubernetes.io/enforce";

interface NamespaceConfig {
  allowlist: Record<string, string>;
}

export const namespacePodSecurity = resourceRule<NamespaceConfig>({
  name: "namespace-pod-security",
  description: `Every namespace carries ${ENFORCE}: restricted. A namespace that must run at a lower level (e.g. node-level agents) is allowlisted in the policy config with a reason, and still has to set an enforce level.`,
  category: "security",
  types: [NAMESPACE],
  configSchema: { properties: { allowlist: NAMESPACE_REASONS_SCHEMA } },
  check: (props, config) => {
    const meta = (props as KubernetesProps).metadata ?? {};
    const level = meta.labels?.[ENFORCE];
    const name = meta.name ?? "(unnamed)";
    if (config.allowlist[name]) {
      return level ? [] : [`namespace ${name} is allowlisted (${config.allowlist[name]}) but sets no ${ENFORCE} label`];
    }
    return level === "restricted"
      ? []
      : [
          `namespace ${name}: label ${ENFORCE} is ${JSON.stringify(level ?? "unset")}; required: "restricted" (or allowlist it with a reason)`,
        ];
  },
});
