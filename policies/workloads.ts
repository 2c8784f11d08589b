/**
 * Rules for everything that runs a pod: the Pod Security Standards, and the platform's own
 * rules beyond them. Each is written once against the pod template (see lib/podTemplate).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { NAMESPACE_REASONS_SCHEMA, resourceRule, type PolicyCategory } from "./lib/policy";
import { containersOf, podTemplateOf, runningContainersOf, STATELESS_KINDS, type PodTemplate } from "./lib/podTemplate";
import type { KubernetesProps } from "./lib/kubernetes";
import {
  BASELINE_CONTROLS,
  minorOf,
  NEWEST_MINOR,
  podSecurityViolations,
  RESTRICTED_CONTROLS,
  type PodSecurityControl,
} from "./podSecurityControls";

/** The annotation a workload carries, with the reason, when its pods need the API token. */
export const SERVICE_ACCOUNT_TOKEN_ANNOTATION = "doc-rag.io/service-account-token-reason";

interface WorkloadRule<Config> {
  name: string;
  description: string;
  category: PolicyCategory;
  configSchema?: ResourceValidationPolicy["configSchema"];
  check(pod: PodTemplate, config: Config, props: KubernetesProps): string[];
}

const isWorkload = (type: string) => podTemplateOf(type, {}) !== undefined;

function workloadRule<Config extends object = Record<string, never>>(
  rule: WorkloadRule<Config>,
): ResourceValidationPolicy {
  return resourceRule<Config>({
    ...rule,
    types: isWorkload,
    check: (props, config, args) => {
      const pod = podTemplateOf(args.type, props);
      return pod ? rule.check(pod, config, props as KubernetesProps) : [];
    },
  });
}

interface PodSecurityConfig {
  exemptNamespaces: Record<string, string>;
  /** The Pod Security Standard's version, as a namespace's enforce-version label names it. */
  version: string;
}

function podSecurityRule(level: "baseline" | "restricted", controls: PodSecurityControl[]): ResourceValidationPolicy {
  return workloadRule<PodSecurityConfig>({
    name: `pod-security-${level}`,
    description:
      `Pods meet the ${level} Pod Security Standard at the configured version (v1.25 to v1.37, default latest): ` +
      controls.map((c) => c.title).join(", ") +
      ". A violation names the control, the container and the field.",
    category: "security",
    configSchema: {
      properties: {
        exemptNamespaces: NAMESPACE_REASONS_SCHEMA,
        version: {
          type: "string",
          pattern: "^(latest|v1\\.\\d+)$",
          default: "latest",
          description:
            "The standard's version (v1.NN or latest), as pod-security.kubernetes.io/enforce-version names it.",
        },
      },
    },
    check: (pod, config, props) => {
      const namespace = props.metadata?.namespace;
      if (namespace && config.exemptNamespaces[namespace]) return [];
      return podSecurityViolations(pod, controls, minorOf(config.version) ?? NEWEST_MINOR);
    },
  });
}

export const podSecurityBaseline = podSecurityRule("baseline", BASELINE_CONTROLS);
export const podSecurityRestricted = podSecurityRule("restricted", RESTRICTED_CONTROLS);

export const readOnlyRootFilesystem = workloadRule({
  name: "read-only-root-filesystem",
  description: "Every container mounts its root filesystem read-only (write to emptyDir or volumes instead).",
  category: "security",
  check: (pod) =>
    containersOf(pod)
      .filter((ref) => ref.container.securityContext?.readOnlyRootFilesystem !== true)
      .map((ref) => `${ref.label}: ${ref.path}.securityContext.readOnlyRootFilesystem must be true`),
});

interface ResourcesConfig {
  requireCpuLimit: boolean;
}

export const containerResources = workloadRule<ResourcesConfig>({
  name: "container-resources",
  description:
    "Every container and init container requests CPU and memory and sets a memory limit (and a CPU limit unless configured off).",
  category: "operations",
  configSchema: {
    properties: {
      requireCpuLimit: { type: "boolean", default: true, description: "Require limits.cpu as well as limits.memory." },
    },
  },
  check: (pod, config) =>
    containersOf(pod, ["containers", "initContainers"]).flatMap((ref) => {
      const { requests = {}, limits = {} } = ref.container.resources ?? {};
      const missing = [
        !requests.cpu && "requests.cpu",
        !requests.memory && "requests.memory",
        config.requireCpuLimit && !limits.cpu && "limits.cpu",
        !limits.memory && "limits.memory",
      ].filter(Boolean);
      return missing.length ? [`${ref.label}: ${ref.path}.resources is missing ${missing.join(", ")}`] : [];
    }),
});

export const containerProbes = workloadRule({
  name: "container-probes",
  description:
    "Every long-running container (and sidecar) has a liveness and a readiness probe; Jobs and CronJobs are exempt.",
  category: "operations",
  check: (pod) =>
    pod.longRunning
      ? runningContainersOf(pod).flatMap((ref) =>
          (["livenessProbe", "readinessProbe"] as const)
            .filter((probe) => !ref.container[probe])
            .map((probe) => `${ref.label}: ${ref.path}.${probe} is missing`),
        )
      : [],
});

interface ImagePinConfig {
  allowImmutableTags: boolean;
  immutableTagPattern: string;
}

const DIGEST = /@sha256:[0-9a-f]{64}$/;

export const imagePinned = workloadRule<ImagePinConfig>({
  name: "image-pinned",
  description:
    "Every container image is pinned by digest (image@sha256:…), so what runs is what was scanned; tags matching an immutable pattern may be allowed by config.",
  category: "security",
  configSchema: {
    properties: {
      allowImmutableTags: {
        type: "boolean",
        default: false,
        description: "Accept tags that match immutableTagPattern (for registries that enforce tag immutability).",
      },
      immutableTagPattern: {
        type: "string",
        default: "^v?\\d+\\.\\d+\\.\\d+$",
        description: "Regular expression a tag must match to count as immutable.",
      },
    },
  },
  check: (pod, config) =>
    containersOf(pod).flatMap((ref) => {
      const image = ref.container.image ?? "";
      if (DIGEST.test(image)) return [];
      const tag = /:([^/:@]+)$/.exec(image)?.[1];
      if (config.allowImmutableTags && tag && tag !== "latest" && new RegExp(config.immutableTagPattern).test(tag))
        return [];
      const allowed = config.allowImmutableTags
        ? `a digest or a tag matching ${config.immutableTagPattern}`
        : "a digest (@sha256:…)";
      return [`${ref.label}: ${ref.path}.image ${JSON.stringify(image)} is not pinned; required: ${allowed}`];
    }),
});

interface RegistryConfig {
  allowedRegistries: string[];
}

/** `nginx` → `docker.io/library/nginx`: the image's full name, registry first. */
export function fullImageName(image: string): string {
  const [first = ""] = image.split("/");
  const hasRegistry = image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasRegistry) return image;
  return image.includes("/") ? `docker.io/${image}` : `docker.io/library/${image}`;
}

export const imageRegistry = workloadRule<RegistryConfig>({
  name: "image-registry",
  description: "Every container image comes from an allowed registry (or registry path prefix).",
  category: "security",
  configSchema: {
    properties: {
      allowedRegistries: {
        type: "array",
        items: { type: "string", minLength: 1 },
        default: ["ghcr.io"],
        description: "Registries or path prefixes, e.g. ghcr.io or ghcr.io/doc-rag.",
      },
    },
  },
  check: (pod, config) =>
    containersOf(pod).flatMap((ref) => {
      const image = fullImageName(ref.container.image ?? "");
      const allowed = config.allowedRegistries.some((prefix) => image.startsWith(prefix.replace(/\/$/, "") + "/"));
      return allowed
        ? []
        : [
            `${ref.label}: ${ref.path}.image ${JSON.stringify(image)} is not from an allowed registry (${config.allowedRegistries.join(", ")})`,
          ];
    }),
});

export const serviceAccountToken = workloadRule({
  name: "service-account-token",
  description: `Pods do not mount a Kubernetes API token (automountServiceAccountToken: false) unless the workload declares why it needs one in the ${SERVICE_ACCOUNT_TOKEN_ANNOTATION} annotation.`,
  category: "security",
  check: (pod, _config, props) => {
    const reason =
      props.metadata?.annotations?.[SERVICE_ACCOUNT_TOKEN_ANNOTATION] ??
      pod.metadata.annotations?.[SERVICE_ACCOUNT_TOKEN_ANNOTATION];
    if (pod.spec.automountServiceAccountToken === false || reason) return [];
    return [
      `pod: ${pod.specPath}.automountServiceAccountToken must be false, or the workload must carry the annotation ${SERVICE_ACCOUNT_TOKEN_ANNOTATION} saying why it needs the token`,
    ];
  },
});

interface ReplicasConfig {
  minReplicas: number;
}

export const minimumReplicas = workloadRule<ReplicasConfig>({
  name: "minimum-replicas",
  description:
    "Stateless workloads (Deployment, ReplicaSet, Argo Rollout) run at least two replicas, so one pod's loss or a node drain is not an outage.",
  category: "operations",
  configSchema: {
    properties: {
      minReplicas: { type: "integer", minimum: 1, default: 2, description: "Lowest replica count accepted." },
    },
  },
  check: (pod, config, props) => {
    if (!STATELESS_KINDS.has(pod.kind)) return [];
    const replicas = (props.spec as { replicas?: number } | undefined)?.replicas ?? 1;
    return replicas >= config.minReplicas
      ? []
      : [`spec.replicas is ${replicas}; required: at least ${config.minReplicas}`];
  },
});

export const workloadPolicies = [
  podSecurityBaseline,
  podSecurityRestricted,
  readOnlyRootFilesystem,
  containerResources,
  containerProbes,
  imagePinned,
  imageRegistry,
  serviceAccountToken,
  minimumReplicas,
];
