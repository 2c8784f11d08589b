import type * as pulumi from "@pulumi/pulumi";
import { CHARTS, pinnedRelease, type ChartSource } from "../charts";
import type { ObservabilityConfig } from "../config";
import { PROJECT } from "../config";

/** One section of Fluent Bit's classic configuration: `[NAME]` and its key/value lines. */
export interface Section {
  name: "SERVICE" | "INPUT" | "FILTER" | "OUTPUT";
  entries: [string, string][];
}

export function renderSections(sections: Section[]): string {
  return (
    sections.map((s) => [`[${s.name}]`, ...s.entries.map(([k, v]) => `    ${k} ${v}`)].join("\n")).join("\n\n") + "\n"
  );
}

export const METRICS_PORT = 2020;
const STATE = "/var/fluent-bit/state";

export interface LogShippingOptions extends ChartSource {
  logs: NonNullable<ObservabilityConfig["logs"]>;
  /** The Doc-RAG services' namespace, whose logs are JSON. */
  applicationNamespace: string;
}

/**
 * The original Fluentd settings (§5.3) in Fluent Bit: tail every container's log, add
 * Kubernetes metadata, parse the application's JSON lines, ship to OpenSearch with the index
 * prefix doc-rag; chunks are buffered on the node's disk and retried without end, the backoff
 * capped at 30 seconds (retry_forever, retry_max_interval 30), flushed every 5 seconds.
 */
export function fluentBitConfig(
  opts: LogShippingOptions,
): Record<"service" | "inputs" | "filters" | "outputs", Section[]> {
  const { logs } = opts;
  return {
    service: [
      {
        name: "SERVICE",
        entries: [
          ["Daemon", "Off"],
          ["Flush", "5"],
          ["Log_Level", "info"],
          ["Parsers_File", "/fluent-bit/etc/parsers.conf"],
          ["HTTP_Server", "On"],
          ["HTTP_Listen", "0.0.0.0"],
          ["HTTP_Port", String(METRICS_PORT)],
          ["Health_Check", "On"],
          ["storage.path", `${STATE}/flb-storage/`],
          ["storage.sync", "normal"],
          ["storage.backlog.mem_limit", "16M"],
          ["scheduler.base", "5"],
          ["scheduler.cap", "30"],
        ],
      },
    ],
    inputs: [
      {
        name: "INPUT",
        entries: [
          ["Name", "tail"],
          ["Path", "/var/log/containers/*.log"],
          ["multiline.parser", "docker, cri"],
          ["Tag", "kube.*"],
          ["DB", `${STATE}/tail-containers.db`],
          ["Mem_Buf_Limit", "50MB"],
          ["Skip_Long_Lines", "On"],
          ["storage.type", "filesystem"],
        ],
      },
    ],
    filters: [
      {
        name: "FILTER",
        entries: [
          ["Name", "kubernetes"],
          ["Match", "kube.*"],
          ["Merge_Log", "Off"],
          ["Keep_Log", "On"],
          ["K8S-Logging.Parser", "On"],
          ["K8S-Logging.Exclude", "On"],
          ["Labels", "On"],
          ["Annotations", "Off"],
        ],
      },
      {
        // The services log JSON: keep the line and add its fields (reserve_data).
        name: "FILTER",
        entries: [
          ["Name", "parser"],
          ["Match", `kube.var.log.containers.*_${opts.applicationNamespace}_*`],
          ["Key_Name", "log"],
          ["Parser", "json"],
          ["Reserve_Data", "On"],
          ["Preserve_Key", "On"],
        ],
      },
    ],
    outputs: [
      {
        name: "OUTPUT",
        entries: [
          ["Name", "opensearch"],
          ["Match", "kube.*"],
          ["Host", logs.host],
          ["Port", String(logs.port)],
          ["tls", logs.tls ? "On" : "Off"],
          ...(logs.tls ? ([["tls.verify", "On"]] as [string, string][]) : []),
          ...(logs.credentialsSecret
            ? ([
                ["HTTP_User", "${OPENSEARCH_USERNAME}"],
                ["HTTP_Passwd", "${OPENSEARCH_PASSWORD}"],
              ] as [string, string][])
            : []),
          ["Logstash_Format", "On"],
          ["Logstash_Prefix", PROJECT],
          ["Suppress_Type_Name", "On"],
          ["Replace_Dots", "On"],
          ["Trace_Error", "On"],
          ["Retry_Limit", "no_limits"],
          ["storage.total_limit_size", "5G"],
        ],
      },
    ],
  };
}

export interface LogShippingArgs extends LogShippingOptions {
  namespace: pulumi.Input<string>;
}

/** Fluent Bit (chart values read at 0.47.0) as a DaemonSet on every node, in the node-agents namespace. */
export function logShipping(resourceName: string, args: LogShippingArgs, opts: pulumi.CustomResourceOptions) {
  const config = fluentBitConfig(args);
  const secret = args.logs.credentialsSecret;
  return pinnedRelease(
    resourceName,
    {
      chart: CHARTS.fluentBit,
      chartsDir: args.chartsDir,
      name: "fluent-bit",
      namespace: args.namespace,
      values: {
        kind: "DaemonSet",
        config: {
          service: renderSections(config.service),
          inputs: renderSections(config.inputs),
          filters: renderSections(config.filters),
          outputs: renderSections(config.outputs),
          customParsers: "",
        },
        ...(secret
          ? {
              env: ["username", "password"].map((key) => ({
                name: `OPENSEARCH_${key.toUpperCase()}`,
                valueFrom: { secretKeyRef: { name: secret, key } },
              })),
            }
          : {}),
        // The buffer and read positions survive a restart of the pod.
        extraVolumes: [{ name: "state", hostPath: { path: STATE, type: "DirectoryOrCreate" } }],
        extraVolumeMounts: [{ name: "state", mountPath: STATE }],
        // Root, to read every container's log, but with no capability beyond reading files.
        securityContext: {
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"], add: ["DAC_READ_SEARCH"] },
        },
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        tolerations: [{ operator: "Exists" }],
        serviceMonitor: { enabled: true },
      },
    },
    opts,
  );
}
