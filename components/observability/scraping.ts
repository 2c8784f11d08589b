import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../config";
import { BUSINESS_METRICS_EXPORTER, DOC_RAG_SERVICES, EXPORTER_METRICS_PORT, METRICS_PORT } from "../services";

export interface ScrapeTarget {
  /** The Services' `app.kubernetes.io/name`; also the job label. */
  name: string;
  interval: string;
  port: string;
}

/** The original document's scrape settings: the api every 10s, the exporter every 30s. */
export const SCRAPE_TARGETS: ScrapeTarget[] = [
  ...DOC_RAG_SERVICES.map((name) => ({ name, interval: name === "api" ? "10s" : "15s", port: METRICS_PORT.name })),
  { name: BUSINESS_METRICS_EXPORTER, interval: "30s", port: EXPORTER_METRICS_PORT.name },
];

export interface ServiceMonitorArgs {
  namespace: pulumi.Input<string>;
  applicationNamespace: pulumi.Input<string>;
  labels: Record<string, string>;
}

/** One ServiceMonitor per target, selecting its Services in the application namespace. */
export function serviceMonitor(
  target: ScrapeTarget,
  args: ServiceMonitorArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    `scrape-${target.name}`,
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: `${PROJECT}-${target.name}`, namespace: args.namespace, labels: args.labels },
      spec: {
        // api-active and api-preview are both the api: one job, named after the service.
        jobLabel: "app.kubernetes.io/name",
        selector: { matchLabels: { "app.kubernetes.io/name": target.name, "app.kubernetes.io/part-of": PROJECT } },
        namespaceSelector: { matchNames: [args.applicationNamespace] },
        endpoints: [{ port: target.port, path: "/metrics", scheme: "http", interval: target.interval }],
      },
    },
    opts,
  );
}
