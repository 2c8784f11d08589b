import type { ChartSource } from "../charts";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { EgressConfig, Environment, NamespaceRole, ObservabilityConfig } from "../config";
import { standardLabels } from "../labels";
import { allowWithinNamespace, toEndpoint, trafficRules } from "../platform/networkPolicy";
import { alertGroups, renderRules } from "./alerts";
import { DASHBOARD_LABEL, dashboardModel, dashboards } from "./dashboards";
import { logShipping, METRICS_PORT as FLUENT_BIT_METRICS_PORT } from "./logs";
import { MonitoringStack } from "./metrics";
import { PROMETHEUS_PODS, scrapedByPrometheus } from "../platform/prometheusAccess";
import { FALCO_METRICS_PORT, runtimeSecurity } from "./runtimeSecurity";
import { scrapeApplication } from "./scraping";
import { COLLECTOR_PODS, OTLP_GRPC_PORT, OTLP_HTTP_PORT, Tracing } from "./tracing";

export interface ObservabilityArgs extends ChartSource {
  environment: Environment;
  clusterName: string;
  namespaces: Record<NamespaceRole, pulumi.Output<string>>;
  /** Namespace names known from config, for endpoints, alerts and log routing. */
  dataNamespace: string;
  applicationNamespace: string;
  monitoringNamespace: string;
  config: ObservabilityConfig;
  storageClass: string;
  protect: boolean;
  egress: EgressConfig;
  monitoringCrds: pulumi.Resource;
  grafanaAdmin: pulumi.Resource;
  /** Receiver URLs from secret config. */
  receiverUrls: { paging?: string; chat?: string };
}

const ALERTMANAGER_PODS = { "app.kubernetes.io/name": "alertmanager" };
const OPERATOR_PODS = { app: "kube-prometheus-stack-operator" };
const OPERATOR_WEBHOOK_PORT = 10250;
/** The OpenTelemetry Operator's webhook (chart values: manager.ports.webhookPort). */
const OTEL_WEBHOOK_PORT = 9443;

/**
 * Metrics and alerting (the monitoring stack, the platform's alert rules as a PrometheusRule,
 * ServiceMonitors for the Doc-RAG services, Grafana dashboards), tracing (OpenTelemetry
 * Collector and Jaeger v2), logs (Fluent Bit to OpenSearch), runtime security (Falco), and
 * the network paths all of them need.
 */
export class Observability extends pulumi.ComponentResource {
  readonly stack: MonitoringStack;
  /** Where the services send traces (OTLP over gRPC). */
  readonly tracingEndpoint: string;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:observability:Observability", name, {}, opts);
    const ns = args.namespaces;
    const labels = standardLabels("observability", args.environment);
    const secretUrl = (url: string | undefined) => (url ? pulumi.secret(url) : undefined);
    for (const [key, url] of [
      ["doc-rag:alertPagingUrl", args.receiverUrls.paging],
      ["doc-rag:alertChatUrl", args.receiverUrls.chat],
    ] as const) {
      if (!url && args.environment !== "dev") {
        void pulumi.log.warn(`${key} is not set: its receiver exists but sends nothing`, this);
      }
    }

    this.stack = new MonitoringStack(
      `${name}-stack`,
      {
        environment: args.environment,
        chartsDir: args.chartsDir,
        clusterName: args.clusterName,
        namespace: ns.monitoring,
        nodeAgentsNamespace: ns.nodeAgents,
        config: args.config,
        storageClass: args.storageClass,
        labels,
        receiverUrls: {
          ...(args.receiverUrls.paging ? { paging: secretUrl(args.receiverUrls.paging) } : {}),
          ...(args.receiverUrls.chat ? { chat: secretUrl(args.receiverUrls.chat) } : {}),
        },
        protect: args.protect,
        monitoringCrds: args.monitoringCrds,
        grafanaAdmin: args.grafanaAdmin,
      },
      { parent: this },
    );

    const afterCrds = { parent: this, dependsOn: [args.monitoringCrds] };
    const rules = renderRules(alertGroups({ dataNamespace: args.dataNamespace }), args.config.runbookBaseUrl);
    new k8s.apiextensions.CustomResource(
      `${name}-alert-rules`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "doc-rag-alerts", namespace: ns.monitoring, labels },
        spec: rules,
      },
      afterCrds,
    );
    scrapeApplication(this, name, {
      monitorNamespace: ns.monitoring,
      applicationNamespace: ns.application,
      prometheusNamespace: ns.monitoring,
      labels,
      monitoringCrds: args.monitoringCrds,
    });
    for (const dashboard of dashboards(args.dataNamespace)) {
      new k8s.core.v1.ConfigMap(
        `${name}-dashboard-${dashboard.uid}`,
        {
          metadata: {
            name: `dashboard-${dashboard.uid}`,
            namespace: ns.monitoring,
            labels: { ...labels, ...DASHBOARD_LABEL },
          },
          data: { [`${dashboard.uid}.json`]: JSON.stringify(dashboardModel(dashboard), null, 2) },
        },
        { parent: this },
      );
    }

    const rule = trafficRules(this, name, ns.monitoring, labels);
    allowWithinNamespace(rule, "monitoring-within-namespace", ns.monitoring);
    rule("prometheus-scrapes-cluster", {
      name: "prometheus-scrapes-every-namespace",
      podLabels: PROMETHEUS_PODS,
      direction: "egress",
      peers: [{ allNamespaces: true }],
      ports: [],
    });
    rule("prometheus-scrapes-nodes", {
      name: "prometheus-scrapes-nodes",
      podLabels: PROMETHEUS_PODS,
      ...toEndpoint(args.egress.nodes),
    });
    rule("to-kubernetes-api", {
      name: "monitoring-to-kubernetes-api",
      podLabels: {},
      ...toEndpoint(args.egress.kubernetesApi),
    });
    rule("alertmanager-to-receivers", {
      name: "alertmanager-to-receivers",
      podLabels: ALERTMANAGER_PODS,
      ...toEndpoint(args.egress.alerting),
    });
    for (const [suffix, podLabels, port] of [
      ["prometheus-operator", OPERATOR_PODS, OPERATOR_WEBHOOK_PORT],
      ["opentelemetry-operator", { "app.kubernetes.io/name": "opentelemetry-operator" }, OTEL_WEBHOOK_PORT],
    ] as const) {
      rule(`${suffix}-webhook-from-kubernetes-api`, {
        name: `${suffix}-webhook-from-kubernetes-api`,
        podLabels,
        direction: "ingress",
        peers: [{ cidrs: args.egress.kubernetesApi.cidrs }],
        ports: [port],
      });
    }
    const tracing = new Tracing(
      `${name}-tracing`,
      {
        namespace: ns.monitoring,
        chartsDir: args.chartsDir,
        namespaceName: args.monitoringNamespace,
        labels,
        config: args.config.tracing,
        persistent: args.environment !== "dev",
        storageClass: args.storageClass,
        protect: args.protect,
      },
      { parent: this, dependsOn: [args.monitoringCrds] },
    );
    this.tracingEndpoint = tracing.endpoint;
    const agents = { parent: this, dependsOn: [args.monitoringCrds] };
    const followArtifacts = args.config.followFalcoArtifacts ?? args.environment === "dev";
    if (followArtifacts && args.environment !== "dev")
      void pulumi.log.warn(
        `doc-rag:observability.followFalcoArtifacts is true in ${args.environment}: Falco's rules and plugins follow upstream and change without a commit here`,
        this,
      );
    runtimeSecurity(`${name}-falco`, { namespace: ns.nodeAgents, chartsDir: args.chartsDir, followArtifacts }, agents);
    const agentRule = trafficRules(this, `${name}-agents`, ns.nodeAgents, labels);
    // Falco starts with the stable rules and the container plugin that falcoctl (its init
    // container) downloads (and, where the stack lets it, its sidecar follows their updates):
    // HTTPS to the index and registry.
    agentRule("falco-to-artifacts", {
      name: "falco-to-artifacts",
      podLabels: { "app.kubernetes.io/name": "falco" },
      ...toEndpoint(args.egress.artifacts),
    });
    // Logs are shipped where a stack names its OpenSearch; dev, on a laptop, has none to ship to.
    if (args.config.logs) {
      logShipping(
        `${name}-fluent-bit`,
        {
          namespace: ns.nodeAgents,
          logs: args.config.logs,
          applicationNamespace: args.applicationNamespace,
          chartsDir: args.chartsDir,
        },
        agents,
      );
      const fluentBit = { "app.kubernetes.io/name": "fluent-bit" };
      agentRule("fluent-bit-to-opensearch", {
        name: "fluent-bit-to-opensearch",
        podLabels: fluentBit,
        ...toEndpoint(args.egress.logs),
      });
      agentRule("fluent-bit-to-kubernetes-api", {
        name: "fluent-bit-to-kubernetes-api",
        podLabels: fluentBit,
        ...toEndpoint(args.egress.kubernetesApi),
      });
    }
    agentRule("metrics-from-prometheus", {
      name: "metrics-from-prometheus",
      ...scrapedByPrometheus({}, [FLUENT_BIT_METRICS_PORT, FALCO_METRICS_PORT], ns.monitoring),
    });

    // The Doc-RAG services send traces to the collector, and nothing else in their namespace may.
    rule("traces-from-application", {
      name: "otlp-from-application",
      podLabels: COLLECTOR_PODS,
      direction: "ingress",
      peers: [{ namespace: ns.application }],
      ports: [OTLP_GRPC_PORT, OTLP_HTTP_PORT],
    });

    this.registerOutputs({ tracingEndpoint: this.tracingEndpoint });
  }
}
