/** Names and enumerations the whole configuration shares. */
export const PROJECT = "doc-rag";

export const ENVIRONMENTS = ["dev", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The platform's namespaces, each for one kind of workload. */
export const NAMESPACE_ROLES = [
  "application",
  "data",
  "monitoring",
  "security",
  "delivery",
  "gateway",
  "nodeAgents",
] as const;
export type NamespaceRole = (typeof NAMESPACE_ROLES)[number];

/** Pod Security Standards levels, loosest first. */
export const POD_SECURITY_LEVELS = ["privileged", "baseline", "restricted"] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

/** The oldest Kubernetes minor version with Pod Security Admission GA (PSP's removal). */
export const MIN_KUBERNETES_MINOR = 25;
