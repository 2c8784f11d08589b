import type * as pulumi from "@pulumi/pulumi";
import type { EgressConfig } from "../config";

/** What every data service is given by the composition root. */
export interface DataServiceArgs {
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
