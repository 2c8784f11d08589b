import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, pinnedRelease, type ChartSource } from "../charts";
import type { Environment, ObservabilityConfig } from "../config";
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from "../platform/securityContext";
import { DELIVERED_SECRETS } from "../secrets/catalog";
import { alertmanagerYaml, type ReceiverUrls } from "./alertmanager";
import { DASHBOARD_LABEL } from "./dashboards";
import { keepData } from "../protection";

/** The Secret Alertmanager reads its configuration from (key alertmanager.yaml). */
export const ALERTMANAGER_CONFIG_SECRET = "alertmanager-doc-rag";
export const RELEASE = "kube-prometheus-stack";
export const PROMETHEUS_PORT = 9090;

/** The chart names Prometheus's Service `<release>-prometheus`. */
export const prometheusUrl = (namespace: string): string =>
  `http://${RELEASE}-prometheus.${namespace}.svc:${PROMETHEUS_PORT}`;

export interface MonitoringStackArgs extends ChartSource {
  environment: Environment;
  clusterName: string;
  namespace: pulumi.Input<string>;
  /** Where node-exporter runs: it needs the host's network and filesystems. */
  nodeAgentsNamespace: pulumi.Input<string>;
  config: ObservabilityConfig;
  storageClass: string;
  labels: Record<string, string>;
  /** Receiver URLs from secret config, still secret. */
  receiverUrls: { paging?: pulumi.Output<string>; chat?: pulumi.Output<string> };
  protect: boolean;
  monitoringCrds: pulumi.Resource;
  grafanaAdmin: pulumi.Resource;
}

const volume = (storageClass: string, size: string) => ({
  volumeClaimTemplate: {
    spec: {
      storageClassName: storageClass,
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: size } },
    },
  },
});

/**
 * kube-prometheus-stack (values read at 88.4.0): Prometheus, Alertmanager, Grafana,
 * node-exporter and kube-state-metrics. The CRDs come from ClusterAddons, so this release
 * installs none; Prometheus selects every ServiceMonitor, PodMonitor and rule in the cluster.
 */
export class MonitoringStack extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:observability:MonitoringStack", name, {}, opts);
    const cfg = args.config;
    const urls = pulumi.all([args.receiverUrls.paging, args.receiverUrls.chat]);
    const config = new k8s.core.v1.Secret(
      `${name}-alertmanager-config`,
      {
        metadata: { name: ALERTMANAGER_CONFIG_SECRET, namespace: args.namespace, labels: args.labels },
        stringData: {
          "alertmanager.yaml": pulumi.secret(
            urls.apply(([paging, chat]) => {
              const receivers: ReceiverUrls = { ...(paging ? { paging } : {}), ...(chat ? { chat } : {}) };
              return alertmanagerYaml(receivers, cfg.chatChannel);
            }),
          ),
        },
      },
      { parent: this },
    );

    const grafanaAdmin = DELIVERED_SECRETS.grafana;
    this.release = pinnedRelease(
      `${name}-release`,
      {
        chart: CHARTS.kubePrometheusStack,
        chartsDir: args.chartsDir,
        name: RELEASE,
        namespace: args.namespace,
        values: {
          crds: { enabled: false },
          prometheus: {
            prometheusSpec: {
              scrapeInterval: "15s",
              evaluationInterval: "15s",
              externalLabels: { cluster: args.clusterName, environment: args.environment },
              replicas: cfg.prometheus.replicas,
              retention: cfg.prometheus.retention,
              storageSpec: volume(args.storageClass, cfg.prometheus.storageSize),
              resources: cfg.prometheus.resources,
              serviceMonitorSelectorNilUsesHelmValues: false,
              podMonitorSelectorNilUsesHelmValues: false,
              ruleSelectorNilUsesHelmValues: false,
              probeSelectorNilUsesHelmValues: false,
              securityContext: { ...RESTRICTED_POD, runAsUser: 1000, runAsGroup: 2000, fsGroup: 2000 },
            },
          },
          alertmanager: {
            podDisruptionBudget: { enabled: cfg.alertmanager.replicas > 1, minAvailable: 1 },
            alertmanagerSpec: {
              useExistingSecret: true,
              configSecret: ALERTMANAGER_CONFIG_SECRET,
              replicas: cfg.alertmanager.replicas,
              storage: volume(args.storageClass, cfg.alertmanager.storageSize),
              securityContext: { ...RESTRICTED_POD, runAsUser: 1000, runAsGroup: 2000, fsGroup: 2000 },
            },
          },
          grafana: {
            admin: {
              existingSecret: grafanaAdmin.name,
              userKey: grafanaAdmin.keys[0].key,
              passwordKey: grafanaAdmin.keys[1].key,
            },
            defaultDashboardsEnabled: true,
            sidecar: {
              dashboards: {
                enabled: true,
                label: Object.keys(DASHBOARD_LABEL)[0],
                labelValue: Object.values(DASHBOARD_LABEL)[0],
                searchNamespace: "ALL",
              },
            },
            securityContext: { ...RESTRICTED_POD, runAsUser: 472, runAsGroup: 472, fsGroup: 472 },
            containerSecurityContext: RESTRICTED_CONTAINER,
          },
          "prometheus-node-exporter": { namespaceOverride: args.nodeAgentsNamespace },
          // The subchart's condition is the parent's kubeStateMetrics.enabled (a key under the
          // subchart's own name is never read).
          kubeStateMetrics: { enabled: true },
        },
        timeoutSeconds: 900,
      },
      {
        parent: this,
        // Prometheus' TSDB and Alertmanager's silences live on its volumes.
        ...keepData(args.protect),
        dependsOn: [args.monitoringCrds, args.grafanaAdmin, config],
      },
    );
    this.registerOutputs({});
  }
}
