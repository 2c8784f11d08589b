import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, pinnedRelease, type ChartSource } from "../charts";
import type { ObservabilityConfig } from "../config";
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from "../platform/securityContext";

/** Jaeger v2: one binary built on the OpenTelemetry Collector, configured by YAML. */
export const JAEGER_IMAGE = "jaegertracing/jaeger:2.21.0";
export const OTLP_GRPC_PORT = 4317;
export const OTLP_HTTP_PORT = 4318;
export const JAEGER_UI_PORT = 16686;
/** The operator names each collector's Service `<name>-collector`. */
export const COLLECTOR = "doc-rag";
export const COLLECTOR_PODS = { "app.kubernetes.io/name": `${COLLECTOR}-collector` };
export const JAEGER = "jaeger";
const API_VERSION = "opentelemetry.io/v1beta1";
const BADGER_PATH = "/badger";

/**
 * The application's collector, with the original document's pipeline (§5.2): OTLP over gRPC
 * and HTTP, a 512 MiB memory limiter, batches of 50 or every second, exported to Jaeger v2.
 * The Jaeger v1 receivers are gone with Jaeger v1; applications send OTLP.
 */
export function collectorConfig(jaegerEndpoint: string): Record<string, unknown> {
  return {
    extensions: { health_check: { endpoint: "0.0.0.0:13133" } },
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: `0.0.0.0:${OTLP_GRPC_PORT}` },
          http: { endpoint: `0.0.0.0:${OTLP_HTTP_PORT}` },
        },
      },
    },
    processors: {
      memory_limiter: { check_interval: "1s", limit_mib: 512 },
      batch: { timeout: "1s", send_batch_size: 50 },
    },
    exporters: {
      "otlp/jaeger": { endpoint: jaegerEndpoint, tls: { insecure: true } },
    },
    service: {
      extensions: ["health_check"],
      pipelines: {
        traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["otlp/jaeger"] },
      },
    },
  };
}

/** Jaeger v2's configuration: OTLP in, spans kept in Badger on a volume (or memory in dev). */
export function jaegerConfig(storage: { persistent: boolean; retention: string }): Record<string, unknown> {
  const backend = storage.persistent
    ? {
        badger: {
          directories: { keys: `${BADGER_PATH}/keys`, values: `${BADGER_PATH}/values` },
          ephemeral: false,
          ttl: { spans: storage.retention },
        },
      }
    : { memory: { max_traces: 100000 } };
  return {
    extensions: {
      jaeger_storage: { backends: { primary: backend } },
      jaeger_query: { storage: { traces: "primary" }, http: { endpoint: `0.0.0.0:${JAEGER_UI_PORT}` } },
      healthcheckv2: { use_v2: true, http: { endpoint: "0.0.0.0:13133" } },
    },
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: `0.0.0.0:${OTLP_GRPC_PORT}` },
          http: { endpoint: `0.0.0.0:${OTLP_HTTP_PORT}` },
        },
      },
    },
    processors: { batch: {} },
    exporters: { jaeger_storage_exporter: { trace_storage: "primary" } },
    service: {
      extensions: ["jaeger_storage", "jaeger_query", "healthcheckv2"],
      pipelines: {
        traces: { receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] },
      },
    },
  };
}

export interface TracingArgs extends ChartSource {
  namespace: pulumi.Input<string>;
  /** The namespace's name as a string, for the exporter's endpoint. */
  namespaceName: string;
  labels: Record<string, string>;
  config: ObservabilityConfig["tracing"];
  /** Spans on a volume (staging, production) or in memory (dev). */
  persistent: boolean;
  storageClass: string;
  protect: boolean;
}

/** Requests and limits; memory is guaranteed (request = limit), CPU may burst. */
const resources = (cpu: [string, string], memory: string) => ({
  requests: { cpu: cpu[0], memory },
  limits: { cpu: cpu[1], memory },
});

/**
 * Tracing: the OpenTelemetry Operator (chart values read at 0.115.0), the application's
 * collector and Jaeger v2, both as OpenTelemetryCollector resources the operator runs.
 */
export class Tracing extends pulumi.ComponentResource {
  /** Where the services send OTLP (gRPC). */
  readonly endpoint: string;

  constructor(name: string, args: TracingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:observability:Tracing", name, {}, opts);
    const operator = pinnedRelease(
      `${name}-operator`,
      {
        chart: CHARTS.opentelemetryOperator,
        chartsDir: args.chartsDir,
        name: "opentelemetry-operator",
        namespace: args.namespace,
        values: {
          crds: { create: true },
          // No cert-manager dependency: Helm generates the webhook's certificate.
          admissionWebhooks: { certManager: { enabled: false }, autoGenerateCert: { enabled: true } },
          manager: {
            resources: resources(["100m", "500m"], "256Mi"),
            securityContext: RESTRICTED_CONTAINER,
            serviceMonitor: { enabled: true },
          },
          securityContext: { ...RESTRICTED_POD, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 },
        },
      },
      { parent: this },
    );

    const collector = (resourceName: string, spec: Record<string, unknown>, metaName: string) =>
      new k8s.apiextensions.CustomResource(
        resourceName,
        {
          apiVersion: API_VERSION,
          kind: "OpenTelemetryCollector",
          metadata: { name: metaName, namespace: args.namespace, labels: args.labels },
          spec: {
            podSecurityContext: { ...RESTRICTED_POD, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 },
            securityContext: RESTRICTED_CONTAINER,
            ...spec,
          },
        },
        { parent: this, dependsOn: [operator] },
      );

    const jaegerEndpoint = `${JAEGER}-collector.${args.namespaceName}.svc.cluster.local:${OTLP_GRPC_PORT}`;
    collector(
      `${name}-jaeger`,
      {
        mode: "statefulset",
        replicas: 1,
        image: JAEGER_IMAGE,
        resources: resources(["250m", "1"], "1Gi"),
        config: jaegerConfig({ persistent: args.persistent, retention: args.config.retention }),
        ...(args.persistent
          ? {
              volumeClaimTemplates: [
                {
                  apiVersion: "v1",
                  kind: "PersistentVolumeClaim",
                  metadata: { name: "badger" },
                  spec: {
                    storageClassName: args.storageClass,
                    accessModes: ["ReadWriteOnce"],
                    resources: { requests: { storage: args.config.storageSize } },
                  },
                },
              ],
              volumeMounts: [{ name: "badger", mountPath: BADGER_PATH }],
            }
          : {}),
      },
      JAEGER,
    );
    collector(
      `${name}-collector`,
      {
        mode: "deployment",
        replicas: args.config.collectorReplicas,
        // Above the memory limiter's 512 MiB, so the limiter acts before the kernel does.
        resources: resources(["200m", "1"], "640Mi"),
        config: collectorConfig(jaegerEndpoint),
      },
      COLLECTOR,
    );
    this.endpoint = `${COLLECTOR}-collector.${args.namespaceName}.svc.cluster.local:${OTLP_GRPC_PORT}`;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
