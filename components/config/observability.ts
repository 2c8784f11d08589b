/** Metrics, alerting and dashboards: sizes per stack and where runbooks live. */
import { z } from "zod";
import { containerResources, httpsUrl, positiveQuantity, strictObject } from "./primitives";

const replicas = z.number().int().min(1).max(3, "must be between 1 and 3").default(1);

export const observabilitySchema = strictObject({
  runbookBaseUrl: httpsUrl("must be an https:// URL").default("https://wiki.doc-rag.io/runbooks"),
  chatChannel: z
    .string({ error: "must be a string" })
    .regex(/^#[a-z0-9_-]+$/, "must be a channel name such as #doc-rag-alerts")
    .default("#doc-rag-alerts"),
  prometheus: strictObject({
    replicas,
    retention: z
      .string({ error: "must be a string" })
      .regex(/^[1-9]\d*[hdwy]$/, "must be a duration such as 15d")
      .default("7d"),
    storageSize: positiveQuantity.default("10Gi"),
    resources: containerResources({
      requests: { cpu: "250m", memory: "1Gi" },
      limits: { cpu: "1", memory: "2Gi" },
    }),
  }).prefault({}),
  alertmanager: strictObject({ replicas, storageSize: positiveQuantity.default("1Gi") }).prefault({}),
  /**
   * Whether Falco's falcoctl sidecar follows its rules and plugins upstream, installing updates
   * without a commit here. Unset: only in dev; setting it in staging or production is warned about.
   */
  followFalcoArtifacts: z.boolean({ error: "must be true or false" }).optional(),
  tracing: strictObject({
    collectorReplicas: replicas,
    /** Jaeger keeps spans on its own volume (Badger) for this long. */
    retention: z
      .string({ error: "must be a string" })
      .regex(/^[1-9]\d*h$/, "must be a number of hours such as 168h")
      .default("72h"),
    storageSize: positiveQuantity.default("5Gi"),
  }).prefault({}),
  logs: strictObject({
    host: z
      .string({ error: "must be a string" })
      .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, "must be a host name")
      .default("opensearch"),
    port: z.number().int().min(1).max(65535, "must be a port number").default(9200),
    tls: z.boolean({ error: "must be true or false" }).default(true),
    /** A Secret in the node-agents namespace with the keys username and password. */
    credentialsSecret: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a Secret name")
      .optional(),
    // Unset, no logs are shipped (dev on a laptop reads them with kubectl logs); staging and
    // production must name their OpenSearch.
  }).optional(),
});

export type ObservabilityConfig = z.output<typeof observabilitySchema>;

/** A receiver's webhook URL: https, set as a secret. */
export const receiverUrl = httpsUrl("must be an https:// URL", { secret: true });
