/**
 * The six Doc-RAG services and how they are delivered. Defaults are the original document's
 * (§3.2, §3.3); dev shrinks them to fit a laptop, staging runs fewer replicas.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { DOC_RAG_SERVICES, type DocRagService } from "../services";
import { containerResources, dnsSubdomain, strictObject, type CpuMemory } from "./primitives";

/** An image digest, as registries name it. */
const digest = z.string({ error: "must be a string" }).regex(/^sha256:[a-f0-9]{64}$/, "must be sha256:<64 hex digits>");

/** A service's image: its repository, and the release tag or the digest that wins over it. */
function imageSchema(service: DocRagService) {
  return strictObject({
    repository: z
      .string({ error: "must be a string" })
      .regex(/^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+$/, "must be registry/path, such as ghcr.io/doc-rag/api")
      .default(`ghcr.io/doc-rag/${service}`),
    tag: z
      .string({ error: "must be a string" })
      .regex(/^[\w][\w.-]{0,127}$/, "must be an image tag")
      .refine((t) => t !== "latest", "must name a release: latest moves under you")
      .default("1.0.0"),
    digest: digest.optional(),
  });
}

interface ServiceDefaults {
  replicas: number;
  /** The autoscaler's floor (the original document's api: 3) and ceiling (api: 20). */
  minReplicas: number;
  maxReplicas: number;
  requests: CpuMemory;
  limits: CpuMemory;
  gpu: boolean;
}

/** The GPU stages of the pipeline (the original document's chunker and embedder). */
const GPU_STAGE: ServiceDefaults = {
  replicas: 2,
  minReplicas: 2,
  maxReplicas: 4,
  requests: { cpu: "2", memory: "4Gi" },
  limits: { cpu: "4", memory: "8Gi" },
  gpu: true,
};

/** The CPU stages, which the original document does not size. */
const CPU_STAGE: ServiceDefaults = {
  replicas: 2,
  minReplicas: 2,
  maxReplicas: 6,
  requests: { cpu: "250m", memory: "512Mi" },
  limits: { cpu: "1", memory: "1Gi" },
  gpu: false,
};

/** The original document's settings: api 500m/1Gi → 2/4Gi, 5 replicas autoscaled 3–20. */
const DEFAULTS: Record<DocRagService, ServiceDefaults> = {
  api: {
    replicas: 5,
    minReplicas: 3,
    maxReplicas: 20,
    requests: { cpu: "500m", memory: "1Gi" },
    limits: { cpu: "2", memory: "4Gi" },
    gpu: false,
  },
  chunker: GPU_STAGE,
  embedder: GPU_STAGE,
  retriever: CPU_STAGE,
  "query-processor": CPU_STAGE,
  "response-generator": CPU_STAGE,
};

function serviceSchema(name: DocRagService) {
  const d = DEFAULTS[name];
  return strictObject({
    image: imageSchema(name).prefault({}),
    replicas: z.number().int().min(1).max(50, "must be between 1 and 50").default(d.replicas),
    minReplicas: z.number().int().min(1).max(50, "must be between 1 and 50").default(d.minReplicas),
    maxReplicas: z.number().int().min(1).max(100, "must be between 1 and 100").default(d.maxReplicas),
    resources: containerResources({ requests: d.requests, limits: d.limits }),
    gpu: z.boolean({ error: "must be true or false" }).default(d.gpu),
  })
    .refine((s) => s.maxReplicas >= Math.max(s.replicas, s.minReplicas), {
      path: ["maxReplicas"],
      message: "must be at least replicas and minReplicas",
    })
    .prefault({});
}

export const servicesSchema = strictObject(
  Object.fromEntries(DOC_RAG_SERVICES.map((s) => [s, serviceSchema(s)])) as {
    [S in DocRagService]: ReturnType<typeof serviceSchema>;
  },
);

/**
 * A release: the version tag (on the application repository's main) and the digest of every
 * service's image built from it. The release workflow records it in the stack's ESC environment;
 * it wins over each service's image tag and digest, so promotion changes nothing else.
 */
export const releaseSchema = strictObject({
  version: z.string({ error: "must be a string" }).regex(/^v\d+\.\d+\.\d+$/, "must be a release tag such as v1.4.2"),
  images: strictObject(
    Object.fromEntries(DOC_RAG_SERVICES.map((s) => [s, digest])) as { [S in DocRagService]: typeof digest },
  ),
});

export const deliverySchema = strictObject({
  /** The public host of the API, on the Gateway's HTTPS listener. */
  apiHost: dnsSubdomain
    .regex(/\.[a-z]{2,}$/, "must be a DNS name such as api.doc-rag.com")
    .default("api.doc-rag.local"),
  /** The ACME account's e-mail for Let's Encrypt. */
  acmeEmail: z
    .string({ error: "must be an e-mail address" })
    .max(254, "must be at most 254 characters, the longest address mail can carry")
    .pipe(z.email({ error: "must be an e-mail address" }))
    .default("platform@doc-rag.io"),
  /** Canary: promote without the manual approval after the first step. */
  autoPromote: z.boolean({ error: "must be true or false" }).default(false),
  /** Canary: scale the pauses (0.1 turns 10m into 1m). */
  pauseScale: z.number().gt(0).max(1, "must be above 0 and at most 1").default(1),
  /**
   * Serve the resource metrics API (metrics.k8s.io: the CPU and memory the autoscalers read) from
   * Prometheus through prometheus-adapter. False on a cluster whose provider already runs
   * metrics-server, which owns that API (GKE, AKS, the EKS add-on).
   */
  resourceMetrics: z.boolean({ error: "must be true or false" }).default(true),
});

export type ServicesConfig = z.output<typeof servicesSchema>;
export type ServiceConfig = ServicesConfig[DocRagService];
export type DeliveryConfig = z.output<typeof deliverySchema>;
export type ReleaseConfig = z.output<typeof releaseSchema>;

/** The services with a release's version and digests as their images. */
export function withRelease(services: ServicesConfig, release: ReleaseConfig | undefined): ServicesConfig {
  if (!release) return services;
  return Object.fromEntries(
    DOC_RAG_SERVICES.map((s) => [
      s,
      { ...services[s], image: { ...services[s].image, tag: release.version, digest: release.images[s] } },
    ]),
  ) as ServicesConfig;
}

/**
 * What tools that cannot read a stack's ESC environment (the offline plan, the real-engine lane
 * on a local backend) put in place of the release it holds: version v0.0.0 and, per service, the
 * sha256 of a text that names it a placeholder, so no one mistakes it for a published image.
 */
export function placeholderRelease(): ReleaseConfig {
  return {
    version: "v0.0.0",
    images: Object.fromEntries(
      DOC_RAG_SERVICES.map((s) => [
        s,
        `sha256:${createHash("sha256").update(`doc-rag placeholder release image: ${s}`).digest("hex")}`,
      ]),
    ) as ReleaseConfig["images"],
  };
}
