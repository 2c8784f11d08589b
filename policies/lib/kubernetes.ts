/**
 * The slice of the Kubernetes object model the rules read, and how Pulumi names Kubernetes types.
 * Policies see resource inputs as plain JSON, so every field is optional here.
 */

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface SeccompProfile {
  type?: string;
  localhostProfile?: string;
}

export interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  procMount?: string;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: SeccompProfile;
  appArmorProfile?: SeccompProfile;
  seLinuxOptions?: { type?: string; user?: string; role?: string; level?: string };
  windowsOptions?: { hostProcess?: boolean };
  sysctls?: { name: string; value?: string }[];
}

export interface Handler {
  httpGet?: { host?: string; port?: number | string; path?: string; scheme?: string };
  tcpSocket?: { host?: string; port?: number | string };
  exec?: { command?: string[] };
  grpc?: { port?: number };
}

export interface Container {
  name?: string;
  image?: string;
  securityContext?: SecurityContext;
  ports?: { containerPort?: number; hostPort?: number; name?: string }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Handler;
  readinessProbe?: Handler;
  startupProbe?: Handler;
  lifecycle?: { postStart?: Handler; preStop?: Handler };
  restartPolicy?: string;
}

export type Volume = { name?: string } & Record<string, unknown>;

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Volume[];
  securityContext?: SecurityContext;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  hostUsers?: boolean;
  os?: { name?: string };
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
}

/** Any Kubernetes object as a policy sees it: its inputs. */
export interface KubernetesProps {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: Record<string, unknown>;
  [field: string]: unknown;
}

/** API groups served by Kubernetes itself; any other group is a custom resource. */
const BUILT_IN_GROUPS = new Set([
  "core",
  "admissionregistration.k8s.io",
  "apiextensions.k8s.io",
  "apiregistration.k8s.io",
  "apps",
  "authentication.k8s.io",
  "authorization.k8s.io",
  "autoscaling",
  "batch",
  "certificates.k8s.io",
  "coordination.k8s.io",
  "discovery.k8s.io",
  "events.k8s.io",
  "flowcontrol.apiserver.k8s.io",
  "internal.apiserver.k8s.io",
  "networking.k8s.io",
  "node.k8s.io",
  "policy",
  "rbac.authorization.k8s.io",
  "resource.k8s.io",
  "scheduling.k8s.io",
  "storage.k8s.io",
  "storagemigration.k8s.io",
]);

/** Kinds that live outside any namespace (built-in and those of the add-ons the platform installs). */
const CLUSTER_SCOPED_KINDS = new Set([
  "APIService",
  "CertificateSigningRequest",
  "ClusterExternalSecret",
  "ClusterIssuer",
  "ClusterRole",
  "ClusterRoleBinding",
  "ClusterSecretStore",
  "ClusterAnalysisTemplate",
  "ClusterTrustBundle",
  "CSIDriver",
  "CSINode",
  "CustomResourceDefinition",
  "DeviceClass",
  "FlowSchema",
  "GatewayClass",
  "IngressClass",
  "IPAddress",
  "MutatingAdmissionPolicy",
  "MutatingAdmissionPolicyBinding",
  "MutatingWebhookConfiguration",
  "Namespace",
  "Node",
  "PersistentVolume",
  "PriorityClass",
  "PriorityLevelConfiguration",
  "RuntimeClass",
  "ServiceCIDR",
  "StorageClass",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "ValidatingWebhookConfiguration",
  "VolumeAttachment",
  "VolumeAttributesClass",
]);

export interface KubernetesType {
  group: string;
  version: string;
  kind: string;
}

/** `kubernetes:apps/v1:Deployment` → {group: apps, version: v1, kind: Deployment}; other types → undefined. */
export function parseKubernetesType(type: string): KubernetesType | undefined {
  const match = /^kubernetes:(.+)\/([^/:]+):([A-Za-z0-9]+)$/.exec(type);
  const [, group = "", version = "", kind = ""] = match ?? [];
  // Helm releases, YAML bundles, lists and server-side-apply patches are not objects of their own.
  if (!match || group === "helm.sh" || group === "yaml" || kind.endsWith("List") || kind.endsWith("Patch"))
    return undefined;
  return { group, version, kind };
}

/** The Pulumi type token of a manifest: `apps/v1` + `Deployment` → `kubernetes:apps/v1:Deployment`. */
export function typeToken(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["core", apiVersion];
  return `kubernetes:${group}/${version}:${kind}`;
}

export function isCustomResource(type: KubernetesType): boolean {
  return !BUILT_IN_GROUPS.has(type.group);
}

export function isNamespaced(type: KubernetesType): boolean {
  return !CLUSTER_SCOPED_KINDS.has(type.kind);
}

export const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";
export const NAMESPACE = "kubernetes:core/v1:Namespace";

/** `kind/name` (with namespace when set): how messages name an object. */
export function objectName(kind: string, props: KubernetesProps): string {
  const meta = props.metadata ?? {};
  return `${kind} ${meta.namespace ? `${meta.namespace}/` : ""}${meta.name ?? "(unnamed)"}`;
}
