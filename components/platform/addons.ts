import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, pinnedRelease, type ChartSource } from "../charts";

export interface ClusterAddonsArgs extends ChartSource {
  monitoringNamespace: pulumi.Input<string>;
}

/**
 * Cluster-wide foundations other components build on. For now the Prometheus Operator CRDs
 * (ServiceMonitor, PodMonitor, PrometheusRule, ...), in a release of their own: the data
 * services ship their monitors before the monitoring stack exists, and the monitoring stack
 * installs without CRDs of its own (`crds.enabled: false`).
 */
export class ClusterAddons extends pulumi.ComponentResource {
  readonly monitoringCrds: k8s.helm.v3.Release;

  constructor(name: string, args: ClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:platform:ClusterAddons", name, {}, opts);
    this.monitoringCrds = pinnedRelease(
      `${name}-prometheus-operator-crds`,
      {
        chart: CHARTS.prometheusOperatorCrds,
        chartsDir: args.chartsDir,
        name: "prometheus-operator-crds",
        namespace: args.monitoringNamespace,
        values: {},
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
