import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NAMESPACE_ROLES, REVIEW_ROLES, type NamespaceRole, type StackConfig } from "../config";
import { SecureNamespace } from "./secureNamespace";

export interface PlatformNamespaces {
  /** The namespaces this stack creates, by role: all of them, or a review stack's own two. */
  created: Partial<Record<NamespaceRole, SecureNamespace>>;
  application: SecureNamespace;
  data: SecureNamespace;
  /**
   * Every role's namespace name. A created one's waits for its Namespace; in a review stack the
   * other roles are the cluster owner's namespaces, named in config.
   */
  names: Record<NamespaceRole, pulumi.Output<string>>;
}

/** The roles whose namespaces this stack creates. */
export function ownedRoles(config: StackConfig): readonly NamespaceRole[] {
  return config.review ? REVIEW_ROLES : NAMESPACE_ROLES;
}

/** One SecureNamespace per role the stack owns, all on the given provider. */
export function platformNamespaces(config: StackConfig, provider: k8s.Provider): PlatformNamespaces {
  const created = Object.fromEntries(
    ownedRoles(config).map((role) => {
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
    }),
  ) as PlatformNamespaces["created"] & Pick<PlatformNamespaces, "application" | "data">;
  const names = Object.fromEntries(
    NAMESPACE_ROLES.map((role) => [role, created[role]?.name ?? pulumi.output(config.namespaces[role].name)]),
  ) as Record<NamespaceRole, pulumi.Output<string>>;
  return { created, application: created.application, data: created.data, names };
}

/** The names of the namespaces this stack created, by role, for stack outputs. */
export function namespaceNames(namespaces: PlatformNamespaces): pulumi.Output<Partial<Record<NamespaceRole, string>>> {
  return pulumi.all(
    Object.fromEntries(Object.entries(namespaces.created).map(([role, ns]) => [role, ns.name])),
  ) as pulumi.Output<Partial<Record<NamespaceRole, string>>>;
}
