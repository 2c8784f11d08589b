/**
 * How the platform's Prometheus reaches what it scrapes: its pods' labels, and the network rule
 * every monitored namespace needs. Here, below every component, so secrets, data, delivery and
 * observability all use it without importing one another.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Rule } from "./networkPolicy";

/** The labels of the Prometheus pods kube-prometheus-stack runs. */
export const PROMETHEUS_PODS = { "app.kubernetes.io/name": "prometheus" };

/**
 * An ingress rule that lets the platform's Prometheus scrape the selected pods on their metrics
 * ports: every ServiceMonitor and PodMonitor needs one where its targets live (default deny).
 */
export function scrapedByPrometheus(
  podLabels: Record<string, string>,
  ports: number[],
  monitoringNamespace: pulumi.Input<string>,
): Pick<Rule, "podLabels" | "direction" | "peers" | "ports"> {
  return {
    podLabels,
    direction: "ingress",
    peers: [{ namespace: monitoringNamespace, podLabels: PROMETHEUS_PODS }],
    ports,
  };
}
