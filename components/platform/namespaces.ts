import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NAMESPACE_ROLES, type NamespaceRole, type StackConfig } from "../config";
import { SecureNamespace } from "./secureNamespace";

export type PlatformNamespaces = Record<NamespaceRole, SecureNamespace>;

/** One SecureNamespace per role in the stack config, all on the given provider. */
export function platformNamespaces(config: StackConfig, provider: k8s.Provider): PlatformNamespaces {
  const entries = NAMESPACE_ROLES.map((role) => {
    const namespace = config.namespaces[role];
    const component = new SecureNamespace(
      role,
      {
        role,
        environment: config.environment,
        namespace,
        kubernetesVersion: config.kubernetesVersion,
        clusterDns: config.clusterDns,
        protect: config.protectStatefulResources && namespace.stateful,
      },
      { provider },
    );
    return [role, component] as const;
  });
  return Object.fromEntries(entries) as PlatformNamespaces;
}

/** Each namespace's name by role; using one waits for its Namespace. */
export function namespaceNameMap(namespaces: PlatformNamespaces): Record<NamespaceRole, pulumi.Output<string>> {
  return Object.fromEntries(Object.entries(namespaces).map(([role, ns]) => [role, ns.name])) as Record<
    NamespaceRole,
    pulumi.Output<string>
  >;
}

/** The namespaces' names by role, for stack outputs. */
export function namespaceNames(namespaces: PlatformNamespaces): pulumi.Output<Record<NamespaceRole, string>> {
  return pulumi.all(namespaceNameMap(namespaces)) as pulumi.Output<Record<NamespaceRole, string>>;
}
