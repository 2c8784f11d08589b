import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT, type Environment } from "../config";
import { standardLabels } from "../labels";
import { trafficRules } from "../platform/networkPolicy";
import { DOC_RAG_SERVICES, METRICS_PORT } from "../services";
import { scrapedByPrometheus } from "../platform/prometheusAccess";

export interface ScrapeTarget {
  /** The Services' `app.kubernetes.io/name`; also the job label. */
  name: string;
  interval: string;
  port: string;
}

/**
 * The original document's scrape settings: the api every 10s, the others 15s. Its business-metrics
 * exporter (§5.4, every 30s) is an application binary that no stack deploys: a ServiceMonitor for
 * it would select nothing, so it gets one with its workload.
 */
export const SCRAPE_TARGETS: ScrapeTarget[] = DOC_RAG_SERVICES.map((name) => ({
  name,
  interval: name === "api" ? "10s" : "15s",
  port: METRICS_PORT.name,
}));

/** The label Argo Rollouts puts on each pod, naming its ReplicaSet's pod template. */
export const ROLLOUTS_POD_TEMPLATE_HASH = "rollouts-pod-template-hash";

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
        // Copies the pod's rollouts-pod-template-hash label onto every series (as
        // rollouts_pod_template_hash): the canary analysis selects the canary's series by it.
        podTargetLabels: [ROLLOUTS_POD_TEMPLATE_HASH],
        endpoints: [{ port: target.port, path: "/metrics", scheme: "http", interval: target.interval }],
      },
    },
    opts,
  );
}

export interface ApplicationScrapingArgs {
  /** Where the ServiceMonitors live. */
  monitorNamespace: pulumi.Input<string>;
  applicationNamespace: pulumi.Input<string>;
  /** Where Prometheus runs. */
  prometheusNamespace: pulumi.Input<string>;
  labels: Record<string, string>;
  monitoringCrds: pulumi.Resource;
}

/**
 * The Doc-RAG services' scraping: a ServiceMonitor per target, and their metrics ports open to
 * Prometheus only (`<name>-application-metrics-from-prometheus`).
 */
export function scrapeApplication(parent: pulumi.Resource, name: string, args: ApplicationScrapingArgs): void {
  for (const target of SCRAPE_TARGETS) {
    serviceMonitor(
      target,
      { namespace: args.monitorNamespace, applicationNamespace: args.applicationNamespace, labels: args.labels },
      { parent, dependsOn: [args.monitoringCrds] },
    );
  }
  trafficRules(
    parent,
    `${name}-application`,
    args.applicationNamespace,
    args.labels,
  )("metrics-from-prometheus", {
    name: "metrics-from-prometheus",
    ...scrapedByPrometheus({ "app.kubernetes.io/part-of": PROJECT }, [METRICS_PORT.port], args.prometheusNamespace),
  });
}

/**
 * A review stack's observability on a cluster another stack owns: the owner's Prometheus scrapes
 * the services through ServiceMonitors in the review stack's own application namespace. No
 * alert rules (they would reach the owner's receivers), dashboards, collectors or agents.
 */
export class ApplicationMetrics extends pulumi.ComponentResource {
  constructor(
    name: string,
    args: Omit<ApplicationScrapingArgs, "monitorNamespace" | "labels"> & { environment: Environment },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("doc-rag:observability:ApplicationMetrics", name, {}, opts);
    scrapeApplication(this, name, {
      ...args,
      monitorNamespace: args.applicationNamespace,
      labels: standardLabels("observability", args.environment),
    });
    this.registerOutputs({});
  }
}
