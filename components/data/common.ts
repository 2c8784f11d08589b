import type { ChartSource } from "../charts";
import type * as pulumi from "@pulumi/pulumi";
import type { EgressConfig } from "../config";
import { trafficRules } from "../platform/networkPolicy";

/** What every data service is given by the composition root. */
export interface DataServiceArgs extends ChartSource {
  /** The data namespace's name (known from config, so endpoints are plain strings). */
  namespace: string;
  applicationNamespace: pulumi.Input<string>;
  monitoringNamespace: pulumi.Input<string>;
  labels: Record<string, string>;
  storageClass: string;
  /** protect + retainOnDelete on releases that hold data (and operators whose CRDs do). */
  protect: boolean;
  highAvailability: boolean;
  egress: EgressConfig;
  /** What installs the PodMonitor/ServiceMonitor CRDs the charts' monitoring needs. */
  monitoringCrds: pulumi.Resource;
  /** What creates the service's credentials Secret. */
  credentials: pulumi.Resource;
}

/** A service's in-cluster address: never a credential, so it may be a stack output. */
export interface Endpoint {
  host: string;
  port: number;
}

export function serviceHost(service: string, namespace: string): string {
  return `${service}.${namespace}.svc.cluster.local`;
}

/** The network paths every data service opens on top of its namespace's default deny. */
export interface ServicePaths {
  /** Prefix of the NetworkPolicies' names (postgres, valkey, qdrant). */
  service: string;
  /** The service's pods. */
  pods: Record<string, string>;
  /** Ports the application namespace may reach. */
  servicePorts: number[];
  /** Ports monitoring may scrape. */
  metricsPorts: number[];
  /** Ports the service's own pods use between each other (replication), both ways. */
  peers?: { name: string; ports: number[] };
}

/**
 * Admits the application namespace on the service ports and monitoring on the metrics ports,
 * and lets the service's pods reach each other; returns the rule maker for the rest.
 */
export function dataServiceRules(parent: pulumi.Resource, prefix: string, args: DataServiceArgs, paths: ServicePaths) {
  const rule = trafficRules(parent, prefix, args.namespace, args.labels);
  rule("from-application", {
    name: `${paths.service}-from-application`,
    podLabels: paths.pods,
    direction: "ingress",
    peers: [{ namespace: args.applicationNamespace }],
    ports: paths.servicePorts,
  });
  rule("metrics-from-monitoring", {
    name: `${paths.service}-metrics-from-monitoring`,
    podLabels: paths.pods,
    direction: "ingress",
    peers: [{ namespace: args.monitoringNamespace }],
    ports: paths.metricsPorts,
  });
  if (paths.peers) {
    const { name, ports } = paths.peers;
    for (const direction of ["ingress", "egress"] as const) {
      rule(`${name}-${direction}`, {
        name: `${paths.service}-${name}-${direction}`,
        podLabels: paths.pods,
        direction,
        peers: [{ namespace: args.namespace, podLabels: paths.pods }],
        ports,
      });
    }
  }
  return rule;
}
