import type { ChartSource } from "../charts";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DeliveryConfig, EgressConfig, Environment, NamespaceRole, ServicesConfig } from "../config";
import { POSTGRES_PORT, POSTGRES_PODS, postgresEndpoint } from "../data/postgres";
import { QDRANT_GRPC_PORT, QDRANT_HTTP_PORT, QDRANT_PODS } from "../data/qdrant";
import { VALKEY_PODS, VALKEY_PORT } from "../data/valkey";
import { standardLabels } from "../labels";
import { PROMETHEUS_PORT, prometheusUrl } from "../observability/metrics";
import { PROMETHEUS_PODS, scrapedByPrometheus } from "../platform/prometheusAccess";
import { COLLECTOR_PODS, OTLP_GRPC_PORT, OTLP_HTTP_PORT } from "../observability/tracing";
import { toEndpoint, trafficRules } from "../platform/networkPolicy";
import {
  CALLS,
  DATA_USE,
  DOC_RAG_SERVICES,
  routedByGateway,
  serviceStrategy,
  type DataService,
  type DocRagService,
} from "../services";
import { metricsAdapter } from "./autoscaling";
import { APP_CONFIG, HTTP_PORT, tracingEnv } from "./podTemplate";
import { Edge } from "./edge";
import { analysisTemplates, rolloutsController, ROLLOUTS_METRICS_PORT } from "./rollouts";
import { DocRagServiceComponent, type Destination, type Strategy } from "./service";

export interface DeliveryArgs extends ChartSource {
  environment: Environment;
  namespaces: Record<NamespaceRole, pulumi.Output<string>>;
  /** Names known from config, for addresses. */
  dataNamespace: string;
  monitoringNamespace: string;
  services: ServicesConfig;
  delivery: DeliveryConfig;
  egress: EgressConfig;
  /** Where the services send traces; undefined on a shared cluster (see `sharedCluster`). */
  tracingEndpoint: string | undefined;
  /**
   * A review stack on a cluster another stack owns: the owner's metrics adapter serves the
   * autoscalers, nothing outside the cluster reaches the api (reviewers port-forward), and no
   * gateway, certificate issuer or delivery-namespace rule is created.
   */
  sharedCluster?: boolean;
  /** What creates the application's Secret `doc-rag-secrets`. */
  applicationSecret: pulumi.Resource;
  monitoringCrds: pulumi.Resource;
  /**
   * Which part to build: the controllers and the edge (the cluster layer: Argo Rollouts, the
   * metrics adapter, Envoy Gateway, cert-manager, the Gateway and the api's route), the services
   * (the app layer: the six services, their analysis templates and configuration), or both.
   */
  part?: DeliveryPart;
}

export type DeliveryPart = "controllers" | "services" | "all";

/**
 * The six Doc-RAG services and their delivery: Argo Rollouts with the Gateway API plugin
 * (outside dev), the canary analysis templates, the metrics adapter behind the autoscalers,
 * and the application's configuration.
 */
export class Delivery extends pulumi.ComponentResource {
  static readonly TYPE = "doc-rag:delivery:Delivery";
  readonly services: Record<DocRagService, DocRagServiceComponent>;
  /** The api's public host, behind the Gateway's HTTPS listener; none on a shared cluster. */
  readonly apiHost: string | undefined;

  constructor(name: string, args: DeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
    super(Delivery.TYPE, name, {}, opts);
    const ns = args.namespaces;
    const production = args.environment === "production";
    const progressive = args.environment !== "dev";
    const labels = standardLabels("delivery", args.environment);
    const prometheus = prometheusUrl(args.monitoringNamespace);
    const child = { parent: this };

    const part = args.part ?? "all";
    const withControllers = part !== "services";
    const withServices = part !== "controllers";
    const shared = args.sharedCluster ?? false;

    const waitFor: pulumi.Resource[] = [args.applicationSecret];
    // In the app layer the controller is the cluster stack's: the reference stands for it.
    let templatesAfter: pulumi.Resource = args.monitoringCrds;
    if (progressive && withControllers) {
      const controller = rolloutsController(
        `${name}-argo-rollouts`,
        { namespace: ns.delivery, highAvailability: production, chartsDir: args.chartsDir },
        { ...child, dependsOn: [args.monitoringCrds] },
      );
      waitFor.push(controller);
      templatesAfter = controller;
    }
    if (progressive && withServices) {
      analysisTemplates(
        { namespace: ns.application, labels, prometheusUrl: prometheus },
        { ...child, dependsOn: [templatesAfter] },
      );
    }
    if (!shared && withControllers) {
      metricsAdapter(
        `${name}-metrics-adapter`,
        {
          namespace: ns.delivery,
          chartsDir: args.chartsDir,
          prometheusUrl: prometheus,
          highAvailability: production,
          resourceMetrics: args.delivery.resourceMetrics,
        },
        child,
      );
    }
    const strategyOf = (svc: DocRagService): Strategy => serviceStrategy(args.environment, svc);
    this.services = withServices ? this.buildServices(name, args, waitFor) : ({} as Delivery["services"]);
    if (shared || !withControllers) {
      this.apiHost = undefined;
      this.registerOutputs({});
      return;
    }
    const api = strategyOf("api");
    const edge = new Edge(
      `${name}-edge`,
      {
        delivery: args.delivery,
        chartsDir: args.chartsDir,
        gatewayNamespace: ns.gateway,
        securityNamespace: ns.security,
        applicationNamespace: ns.application,
        labels,
        egress: args.egress,
        highAvailability: production,
        publicCertificate: progressive,
        backends:
          api === "blueGreen"
            ? [{ name: "api-active" }]
            : api === "canary"
              ? [
                  { name: "api-stable", weight: 100 },
                  { name: "api-canary", weight: 0 },
                ]
              : [{ name: "api" }],
        monitoringCrds: args.monitoringCrds,
        monitoringNamespace: ns.monitoring,
      },
      child,
    );
    this.apiHost = edge.host;

    // The controller and the adapter talk to the API server and Prometheus; the API server
    // calls the adapter (the custom and external metrics APIs).
    const rule = trafficRules(this, `${name}-delivery`, ns.delivery, labels);
    rule("to-kubernetes-api", {
      name: "delivery-to-kubernetes-api",
      podLabels: {},
      ...toEndpoint(args.egress.kubernetesApi),
    });
    if (progressive)
      // The controller fetches its traffic-router plugin at start: a purpose of its own, so narrowing
      // kubernetesApi to the API server leaves the download open.
      rule("rollouts-to-plugin-source", {
        name: "argo-rollouts-to-plugin-source",
        podLabels: { "app.kubernetes.io/name": "argo-rollouts" },
        ...toEndpoint(args.egress.rolloutsPlugin),
      });
    rule("to-prometheus", {
      name: "delivery-to-prometheus",
      podLabels: {},
      direction: "egress",
      peers: [{ namespace: ns.monitoring, podLabels: PROMETHEUS_PODS }],
      ports: [PROMETHEUS_PORT],
    });
    // The chart's ServiceMonitor scrapes the Rollouts controller's metrics port.
    rule("rollouts-metrics-from-prometheus", {
      name: "argo-rollouts-metrics-from-prometheus",
      ...scrapedByPrometheus({ "app.kubernetes.io/name": "argo-rollouts" }, [ROLLOUTS_METRICS_PORT], ns.monitoring),
    });
    rule("adapter-from-kubernetes-api", {
      name: "metrics-adapter-from-kubernetes-api",
      podLabels: { "app.kubernetes.io/name": "prometheus-adapter" },
      direction: "ingress",
      peers: [{ cidrs: args.egress.kubernetesApi.cidrs }],
      ports: [6443],
    });
    trafficRules(
      this,
      `${name}-monitoring`,
      ns.monitoring,
      labels,
    )("prometheus-from-delivery", {
      name: "prometheus-from-delivery",
      podLabels: PROMETHEUS_PODS,
      direction: "ingress",
      peers: [{ namespace: ns.delivery }],
      ports: [PROMETHEUS_PORT],
    });
    this.registerOutputs({});
  }

  /** The six services, their configuration and the paths between them. */
  private buildServices(
    name: string,
    args: DeliveryArgs,
    waitFor: pulumi.Resource[],
  ): Record<DocRagService, DocRagServiceComponent> {
    const ns = args.namespaces;
    const production = args.environment === "production";
    const labels = standardLabels("delivery", args.environment);
    const shared = args.sharedCluster ?? false;
    const child = { parent: this };
    const strategyOf = (svc: DocRagService): Strategy => serviceStrategy(args.environment, svc);
    const postgres = postgresEndpoint(args.dataNamespace);
    const appConfig = new k8s.core.v1.ConfigMap(
      `${name}-app-config`,
      {
        metadata: { name: APP_CONFIG, namespace: ns.application, labels },
        data: {
          ENVIRONMENT: args.environment,
          RUST_LOG: production ? "info" : "debug",
          DATABASE_HOST: postgres.host,
          DATABASE_PORT: String(postgres.port),
          REDIS_URL: `redis://doc-rag-valkey.${args.dataNamespace}.svc.cluster.local:${VALKEY_PORT}`,
          QDRANT_URL: `http://doc-rag-qdrant.${args.dataNamespace}.svc.cluster.local:${QDRANT_HTTP_PORT}`,
          ...Object.fromEntries(tracingEnv(args.tracingEndpoint).map((env) => [env.name, env.value])),
          ...Object.fromEntries(
            DOC_RAG_SERVICES.map((s) => [`${s.toUpperCase().replace(/-/g, "_")}_URL`, `http://${s}:${HTTP_PORT}`]),
          ),
        },
      },
      child,
    );
    waitFor.push(appConfig);

    const data: Record<DataService, Destination> = {
      postgres: { name: "postgres", namespace: ns.data, podLabels: POSTGRES_PODS, ports: [POSTGRES_PORT] },
      valkey: { name: "valkey", namespace: ns.data, podLabels: VALKEY_PODS, ports: [VALKEY_PORT] },
      qdrant: {
        name: "qdrant",
        namespace: ns.data,
        podLabels: QDRANT_PODS,
        ports: [QDRANT_HTTP_PORT, QDRANT_GRPC_PORT],
      },
    };
    const collector: Destination[] = args.tracingEndpoint
      ? [
          {
            name: "tracing",
            namespace: ns.monitoring,
            podLabels: COLLECTOR_PODS,
            ports: [OTLP_GRPC_PORT, OTLP_HTTP_PORT],
          },
        ]
      : [];
    return Object.fromEntries(
      DOC_RAG_SERVICES.map((svc) => {
        const callers = DOC_RAG_SERVICES.filter((caller) => CALLS[caller].includes(svc));
        const component = new DocRagServiceComponent(
          `service-${svc}`,
          {
            name: svc,
            config: args.services[svc],
            delivery: args.delivery,
            strategy: strategyOf(svc),
            namespace: ns.application,
            labels: standardLabels(svc, args.environment),
            spreadByHost: production,
            tracingEndpoint: args.tracingEndpoint,
            ...(routedByGateway(svc, shared) ? { httpRoute: "api" } : {}),
            // The api takes outside traffic from the gateway's proxies only; none on a shared cluster.
            callers: svc === "api" ? (shared ? [] : [{ namespace: ns.gateway }]) : callers,
            destinations: [
              ...CALLS[svc].map((callee) => ({
                name: callee,
                namespace: ns.application,
                podLabels: { "app.kubernetes.io/name": callee },
                ports: [HTTP_PORT],
              })),
              ...DATA_USE[svc].map((d) => data[d]),
              ...collector,
            ],
            dependsOn: waitFor,
          },
          child,
        );
        return [svc, component];
      }),
    ) as Record<DocRagService, DocRagServiceComponent>;
  }
}
