/** The `doc-rag-security` pack's contents; `index.ts` serves them, tests and tools import them. */
import type { Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { githubPolicies } from "./github";
import { helmPolicies } from "./helm";
import { namespacePodSecurity } from "./namespaces";
import { gatewayHttpsOnly, serviceExposure } from "./network";
import { noCredentialSecrets } from "./secrets";
import { stackPolicies } from "./stack";
import { vaultPolicies } from "./vault";
import { workloadPolicies } from "./workloads";

export const PACK_NAME = "doc-rag-security";

export const PACK_DESCRIPTION =
  "Security and operations rules for the Doc-RAG platform: Pod Security Standards and workload hardening, namespaces, exposure, secrets, Helm releases, Vault, GitHub governance and stack-wide guardrails.";

export const policies: Policies = [
  ...workloadPolicies,
  namespacePodSecurity,
  serviceExposure,
  gatewayHttpsOnly,
  noCredentialSecrets,
  ...helmPolicies,
  ...vaultPolicies,
  ...githubPolicies,
  ...stackPolicies,
];

export const isStackPolicy = (p: ResourceValidationPolicy | StackValidationPolicy): p is StackValidationPolicy =>
  "validateStack" in p;
