import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Environment, NamespaceConfig } from "../config";
import { standardLabels } from "../labels";
import { keepData } from "../protection";

export interface SecureNamespaceArgs {
  /** What the namespace is for (application, data, ...): its component label. */
  role: string;
  environment: Environment;
  namespace: NamespaceConfig;
  /** Kubernetes minor version ("1.36") that pins the Pod Security Admission labels. */
  kubernetesVersion: string;
  /** Where the cluster DNS pods run, for the one egress every pod needs. */
  clusterDns: { namespace: string; podLabels: Record<string, string> };
  /** protect + retainOnDelete on the Namespace, whose deletion would take its volumes along. */
  protect: boolean;
}

/** Annotation that records why a namespace runs below the restricted Pod Security level. */
export const POD_SECURITY_REASON_ANNOTATION = "doc-rag.io/pod-security-exemption-reason";

/**
 * A namespace that is safe by default: Pod Security Admission labels, a ResourceQuota, a
 * LimitRange with default requests and limits, and a default-deny NetworkPolicy for both
 * directions with DNS egress as the only exception. Workloads open what they need.
 */
export class SecureNamespace extends pulumi.ComponentResource {
  /** The namespace's name, known once the Namespace is registered. */
  readonly name: pulumi.Output<string>;
  readonly namespace: k8s.core.v1.Namespace;

  constructor(name: string, args: SecureNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:platform:SecureNamespace", name, {}, opts);
    const ns = args.namespace;
    const podSecurity = ns.podSecurity;
    const labels = standardLabels(args.role, args.environment);
    const version = `v${args.kubernetesVersion}`;

    this.namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: ns.name,
          labels: {
            ...labels,
            "pod-security.kubernetes.io/enforce": podSecurity.enforce,
            "pod-security.kubernetes.io/enforce-version": version,
            "pod-security.kubernetes.io/audit": podSecurity.audit,
            "pod-security.kubernetes.io/audit-version": version,
            "pod-security.kubernetes.io/warn": podSecurity.warn,
            "pod-security.kubernetes.io/warn-version": version,
          },
          ...(podSecurity.reason ? { annotations: { [POD_SECURITY_REASON_ANNOTATION]: podSecurity.reason } } : {}),
        },
      },
      { parent: this, ...keepData(args.protect) },
    );
    this.name = this.namespace.metadata.name;

    const inNamespace = (objectName: string) => ({ name: objectName, namespace: this.name, labels });
    const child = { parent: this };

    new k8s.core.v1.ResourceQuota(
      `${name}-quota`,
      { metadata: inNamespace("doc-rag-quota"), spec: { hard: ns.quota } },
      child,
    );

    new k8s.core.v1.LimitRange(
      `${name}-limits`,
      {
        metadata: inNamespace("doc-rag-limits"),
        spec: {
          limits: [
            {
              type: "Container",
              defaultRequest: ns.limits.defaultRequest,
              default: ns.limits.default,
              ...(ns.limits.max ? { max: ns.limits.max } : {}),
            },
          ],
        },
      },
      child,
    );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny`,
      {
        metadata: inNamespace("default-deny-all"),
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      },
      child,
    );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-allow-dns`,
      {
        metadata: inNamespace("allow-dns-egress"),
        spec: {
          podSelector: {},
          policyTypes: ["Egress"],
          egress: [
            {
              to: [
                {
                  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.clusterDns.namespace } },
                  podSelector: { matchLabels: args.clusterDns.podLabels },
                },
              ],
              ports: [
                { protocol: "UDP", port: 53 },
                { protocol: "TCP", port: 53 },
              ],
            },
          ],
        },
      },
      child,
    );

    this.registerOutputs({ name: this.name });
  }
}
