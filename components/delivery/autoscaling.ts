import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { CHARTS, pinnedRelease, type ChartSource } from "../charts";
import type { ServiceConfig } from "../config";
import { PROCESSING_QUEUE } from "../observability/alerts";
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from "../platform/securityContext";

export interface ScaleTarget {
  apiVersion: string;
  kind: string;
  name: string;
}

const utilization = (name: "cpu" | "memory", averageUtilization: number) => ({
  type: "Resource",
  resource: { name, target: { type: "Utilization", averageUtilization } },
});

/**
 * The original document's autoscaler (§3.2) for the api: CPU 70%, memory 80%, per-pod p99
 * latency 500m, the processing queue's length 10, and its scale-up and scale-down behaviour.
 * The other services scale on CPU and memory alone.
 */
export function autoscalerSpec(
  service: string,
  config: ServiceConfig,
  target: ScaleTarget,
): k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerSpec {
  const api = service === "api";
  return {
    scaleTargetRef: target,
    minReplicas: config.minReplicas,
    maxReplicas: config.maxReplicas,
    ...(api
      ? {
          behavior: {
            scaleDown: {
              stabilizationWindowSeconds: 300,
              policies: [{ type: "Percent", value: 10, periodSeconds: 60 }],
            },
            scaleUp: {
              stabilizationWindowSeconds: 60,
              policies: [
                { type: "Percent", value: 50, periodSeconds: 60 },
                { type: "Pods", value: 2, periodSeconds: 60 },
              ],
              selectPolicy: "Max",
            },
          },
        }
      : {}),
    metrics: [
      utilization("cpu", 70),
      utilization("memory", 80),
      ...(api
        ? [
            {
              type: "Pods",
              pods: { metric: { name: "request_latency_p99" }, target: { type: "AverageValue", averageValue: "500m" } },
            },
            {
              type: "External",
              external: {
                metric: { name: "queue_length", selector: { matchLabels: { queue: PROCESSING_QUEUE } } },
                target: { type: "AverageValue", averageValue: "10" },
              },
            },
          ]
        : []),
    ],
  };
}

export function autoscaler(
  resourceName: string,
  args: {
    name: string;
    namespace: pulumi.Input<string>;
    labels: Record<string, string>;
    spec: k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerSpec;
  },
  opts: pulumi.CustomResourceOptions,
) {
  return new k8s.autoscaling.v2.HorizontalPodAutoscaler(
    resourceName,
    { metadata: { name: args.name, namespace: args.namespace, labels: args.labels }, spec: args.spec },
    opts,
  );
}

/**
 * The resource metrics API (metrics.k8s.io) from the kubelets' cAdvisor series that
 * kube-prometheus-stack scrapes: each container's CPU (cores, a 3-minute rate) and memory
 * (working set), which the autoscalers' CPU and memory targets read.
 */
export const RESOURCE_METRICS_RULES = {
  cpu: {
    containerQuery:
      'sum by (<<.GroupBy>>) (rate(container_cpu_usage_seconds_total{container!="",<<.LabelMatchers>>}[3m]))',
    nodeQuery:
      'sum by (<<.GroupBy>>) (rate(node_cpu_seconds_total{mode!="idle",mode!="iowait",mode!="steal",<<.LabelMatchers>>}[3m]))',
    resources: {
      overrides: { node: { resource: "node" }, namespace: { resource: "namespace" }, pod: { resource: "pod" } },
    },
    containerLabel: "container",
  },
  memory: {
    containerQuery:
      'sum by (<<.GroupBy>>) (avg_over_time(container_memory_working_set_bytes{container!="",<<.LabelMatchers>>}[3m]))',
    nodeQuery:
      "sum by (<<.GroupBy>>) (avg_over_time(node_memory_MemTotal_bytes{<<.LabelMatchers>>}[3m]) - avg_over_time(node_memory_MemAvailable_bytes{<<.LabelMatchers>>}[3m]))",
    resources: {
      overrides: { node: { resource: "node" }, namespace: { resource: "namespace" }, pod: { resource: "pod" } },
    },
    containerLabel: "container",
  },
  window: "3m",
};

/**
 * prometheus-adapter (chart values read at 5.3.0) serves the custom and external metrics the
 * api's autoscaler reads, from Prometheus: `request_latency_p99` per pod, from the services'
 * request-duration histogram, and `queue_length`, from `doc_rag_queue_length` by queue; and,
 * unless the cluster runs metrics-server, the resource metrics API (RESOURCE_METRICS_RULES).
 */
export function metricsAdapter(
  resourceName: string,
  args: {
    namespace: pulumi.Input<string>;
    prometheusUrl: string;
    highAvailability: boolean;
    resourceMetrics: boolean;
  } & ChartSource,
  opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
  const url = new URL(args.prometheusUrl);
  return pinnedRelease(
    resourceName,
    {
      chart: CHARTS.prometheusAdapter,
      chartsDir: args.chartsDir,
      name: "prometheus-adapter",
      namespace: args.namespace,
      values: {
        replicas: args.highAvailability ? 2 : 1,
        prometheus: { url: `${url.protocol}//${url.hostname}`, port: Number(url.port), path: "" },
        rules: {
          default: false,
          custom: [
            {
              seriesQuery: 'http_request_duration_seconds_bucket{namespace!="",pod!=""}',
              resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
              name: { matches: "^http_request_duration_seconds_bucket$", as: "request_latency_p99" },
              metricsQuery:
                "histogram_quantile(0.99, sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (le, <<.GroupBy>>))",
            },
          ],
          external: [
            {
              seriesQuery: 'doc_rag_queue_length{queue!=""}',
              resources: { overrides: { namespace: { resource: "namespace" } } },
              name: { matches: "^doc_rag_queue_length$", as: "queue_length" },
              metricsQuery: "max(<<.Series>>{<<.LabelMatchers>>}) by (queue)",
            },
          ],
          ...(args.resourceMetrics ? { resource: RESOURCE_METRICS_RULES } : {}),
        },
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
        podSecurityContext: { ...RESTRICTED_POD, fsGroup: 10001 },
        securityContext: RESTRICTED_CONTAINER,
        // The chart defaults maxUnavailable to 1; a budget with both is refused by the API server,
        // so null removes the default (Helm deletes a key set to null).
        podDisruptionBudget: { enabled: args.highAvailability, minAvailable: 1, maxUnavailable: null },
      },
    },
    opts,
  );
}
