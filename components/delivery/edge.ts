import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, pinnedRelease, type ChartSource } from "../charts";
import type { DeliveryConfig, EgressConfig } from "../config";
import { allowWithinNamespace, toEndpoint, trafficRules } from "../platform/networkPolicy";
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from "../platform/securityContext";
import { scrapedByPrometheus } from "../platform/prometheusAccess";
import { HTTP_PORT } from "./podTemplate";

export const GATEWAY = "doc-rag-gateway";
export const GATEWAY_CLASS = "envoy";
export const CLUSTER_ISSUER = "letsencrypt-prod";
/** Dev's issuer: a laptop's host cannot pass Let's Encrypt's challenge. */
export const SELF_SIGNED_ISSUER = "selfsigned";
export const TLS_SECRET = "doc-rag-tls";
export const API_ROUTE = "api";
const GATEWAY_API = "gateway.networking.k8s.io/v1";
/** The chart's defaults: cert-manager's metrics (all three components), Envoy Gateway's webhook. */
const CERT_MANAGER_METRICS_PORT = 9402;
const ENVOY_GATEWAY_WEBHOOK_PORT = 9443;

export interface EdgeArgs extends ChartSource {
  delivery: DeliveryConfig;
  gatewayNamespace: pulumi.Input<string>;
  securityNamespace: pulumi.Input<string>;
  applicationNamespace: pulumi.Input<string>;
  labels: Record<string, string>;
  egress: EgressConfig;
  highAvailability: boolean;
  /** Let's Encrypt (staging, production) or a self-signed certificate (dev). */
  publicCertificate: boolean;
  /** The api's backends: its stable and canary Services, or the active one. */
  backends: { name: string; weight?: number }[];
  monitoringCrds: pulumi.Resource;
  /** Where Prometheus runs: it scrapes cert-manager. */
  monitoringNamespace: pulumi.Input<string>;
}

/**
 * The edge: Envoy Gateway and cert-manager from pinned charts, a Let's Encrypt ClusterIssuer,
 * a Gateway with an HTTPS listener for the api's host (its certificate issued by cert-manager
 * from the Gateway's annotation) and HTTP only as a redirect, the api's HTTPRoute, and the
 * original document's rate limit of 100 requests per second per client.
 */
export class Edge extends pulumi.ComponentResource {
  readonly host: string;

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:delivery:Edge", name, {}, opts);
    const replicas = args.highAvailability ? 2 : 1;
    const resources = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } };
    const envoyGateway = pinnedRelease(
      `${name}-envoy-gateway`,
      {
        chart: CHARTS.envoyGateway,
        chartsDir: args.chartsDir,
        name: "envoy-gateway",
        namespace: args.gatewayNamespace,
        values: { deployment: { replicas, envoyGateway: { resources } } },
      },
      { parent: this },
    );
    const certManager = pinnedRelease(
      `${name}-cert-manager`,
      {
        chart: CHARTS.certManager,
        chartsDir: args.chartsDir,
        name: "cert-manager",
        namespace: args.securityNamespace,
        values: {
          crds: { enabled: true, keep: true },
          replicaCount: replicas,
          // Issue certificates for Gateways from their annotations.
          config: {
            apiVersion: "controller.config.cert-manager.io/v1alpha1",
            kind: "ControllerConfiguration",
            enableGatewayAPI: true,
          },
          resources,
          securityContext: RESTRICTED_POD,
          containerSecurityContext: RESTRICTED_CONTAINER,
          prometheus: { enabled: true, servicemonitor: { enabled: true } },
          podDisruptionBudget: { enabled: args.highAvailability, minAvailable: 1 },
        },
      },
      { parent: this, dependsOn: [args.monitoringCrds, envoyGateway] },
    );

    const cr = (
      resourceName: string,
      apiVersion: string,
      kind: string,
      metadata: Record<string, unknown>,
      spec: Record<string, unknown>,
      dependsOn: pulumi.Resource[],
    ) =>
      new k8s.apiextensions.CustomResource(
        resourceName,
        { apiVersion, kind, metadata: { ...metadata, labels: args.labels }, spec },
        { parent: this, dependsOn },
      );

    const gatewayClass = cr(
      `${name}-gateway-class`,
      GATEWAY_API,
      "GatewayClass",
      { name: GATEWAY_CLASS },
      { controllerName: "gateway.envoyproxy.io/gatewayclass-controller" },
      [envoyGateway],
    );
    const host = args.delivery.apiHost;
    this.host = host;
    const gateway = cr(
      `${name}-gateway`,
      GATEWAY_API,
      "Gateway",
      {
        name: GATEWAY,
        namespace: args.gatewayNamespace,
        annotations: { "cert-manager.io/cluster-issuer": args.publicCertificate ? CLUSTER_ISSUER : SELF_SIGNED_ISSUER },
      },
      {
        gatewayClassName: GATEWAY_CLASS,
        listeners: [
          {
            name: "https",
            protocol: "HTTPS",
            port: 443,
            hostname: host,
            tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: TLS_SECRET }] },
            allowedRoutes: {
              namespaces: {
                from: "Selector",
                selector: { matchLabels: { "kubernetes.io/metadata.name": args.applicationNamespace } },
              },
            },
          },
          // HTTP serves only the redirect (and cert-manager's ACME challenge).
          { name: "http", protocol: "HTTP", port: 80, hostname: host, allowedRoutes: { namespaces: { from: "Same" } } },
        ],
      },
      [envoyGateway, gatewayClass],
    );
    if (!args.publicCertificate) {
      cr(
        `${name}-self-signed-issuer`,
        "cert-manager.io/v1",
        "ClusterIssuer",
        { name: SELF_SIGNED_ISSUER },
        { selfSigned: {} },
        [certManager],
      );
    }
    cr(
      `${name}-issuer`,
      "cert-manager.io/v1",
      "ClusterIssuer",
      { name: CLUSTER_ISSUER },
      {
        acme: {
          server: "https://acme-v02.api.letsencrypt.org/directory",
          email: args.delivery.acmeEmail,
          privateKeySecretRef: { name: `${CLUSTER_ISSUER}-account-key` },
          solvers: [
            {
              http01: {
                gatewayHTTPRoute: {
                  parentRefs: [
                    { name: GATEWAY, namespace: args.gatewayNamespace, kind: "Gateway", sectionName: "http" },
                  ],
                },
              },
            },
          ],
        },
      },
      [certManager],
    );
    cr(
      `${name}-http-redirect`,
      GATEWAY_API,
      "HTTPRoute",
      { name: "https-redirect", namespace: args.gatewayNamespace },
      {
        parentRefs: [{ name: GATEWAY, sectionName: "http" }],
        hostnames: [host],
        rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
      },
      [envoyGateway, gateway],
    );
    const route = cr(
      `${name}-api-route`,
      GATEWAY_API,
      "HTTPRoute",
      { name: API_ROUTE, namespace: args.applicationNamespace },
      {
        parentRefs: [{ name: GATEWAY, namespace: args.gatewayNamespace, sectionName: "https" }],
        hostnames: [host],
        rules: [
          {
            matches: [{ path: { type: "PathPrefix", value: "/" } }],
            backendRefs: args.backends.map((b) => ({
              name: b.name,
              port: HTTP_PORT,
              ...(b.weight === undefined ? {} : { weight: b.weight }),
            })),
          },
        ],
      },
      [envoyGateway, gateway],
    );
    // The original ingress annotation's 100 requests per second, counted per client address.
    cr(
      `${name}-rate-limit`,
      "gateway.envoyproxy.io/v1alpha1",
      "BackendTrafficPolicy",
      { name: "api-rate-limit", namespace: args.applicationNamespace },
      {
        targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: API_ROUTE }],
        rateLimit: {
          type: "Local",
          local: {
            rules: [
              {
                clientSelectors: [{ sourceCIDR: { type: "Distinct", value: "0.0.0.0/0" } }],
                limit: { requests: 100, unit: "Second" },
              },
            ],
          },
        },
      },
      [envoyGateway, route],
    );

    // The gateway's proxies take traffic from anywhere (Envoy Gateway maps 80/443 to
    // 10080/10443) and pass it to the api; the controller and proxies talk among themselves.
    const gw = trafficRules(this, `${name}-gateway`, args.gatewayNamespace, args.labels);
    const envoy = { "app.kubernetes.io/name": "envoy" };
    gw("from-anywhere", {
      name: "envoy-from-anywhere",
      podLabels: envoy,
      direction: "ingress",
      peers: [{ cidrs: ["0.0.0.0/0", "::/0"] }],
      ports: [10080, 10443],
    });
    gw("to-api", {
      name: "envoy-to-api",
      podLabels: envoy,
      direction: "egress",
      peers: [{ namespace: args.applicationNamespace, podLabels: { "app.kubernetes.io/name": "api" } }],
      ports: [HTTP_PORT],
    });
    allowWithinNamespace(gw, "gateway-within-namespace", args.gatewayNamespace);
    // The controller's topology injector is a mutating webhook the API server calls for each proxy pod.
    gw("controller-from-kubernetes-api", {
      name: "envoy-gateway-webhook-from-kubernetes-api",
      podLabels: { "control-plane": "envoy-gateway" },
      direction: "ingress",
      peers: [{ cidrs: args.egress.kubernetesApi.cidrs }],
      ports: [ENVOY_GATEWAY_WEBHOOK_PORT],
    });
    gw("to-kubernetes-api", {
      name: "gateway-to-kubernetes-api",
      podLabels: {},
      ...toEndpoint(args.egress.kubernetesApi),
    });
    // cert-manager: the API server, its webhook, and Let's Encrypt.
    const cm = trafficRules(this, `${name}-cert-manager`, args.securityNamespace, args.labels);
    const certManagerPods = { "app.kubernetes.io/instance": "cert-manager" };
    cm("to-kubernetes-api", {
      name: "cert-manager-to-kubernetes-api",
      podLabels: certManagerPods,
      ...toEndpoint(args.egress.kubernetesApi),
    });
    cm("to-acme", {
      name: "cert-manager-to-acme",
      podLabels: certManagerPods,
      ...toEndpoint(args.egress.acme),
    });
    if (args.publicCertificate) {
      // ACME HTTP-01: before Let's Encrypt is asked to, the controller fetches the challenge from
      // http://<apiHost>/.well-known/acme-challenge/ itself. The host resolves to the Gateway's
      // public address (port 80); where the cluster routes that address internally (kube-proxy does
      // for a LoadBalancer's IP), the request reaches the Envoy proxies directly on 10080.
      const controller = { ...certManagerPods, "app.kubernetes.io/component": "controller" };
      cm("acme-self-check", {
        name: "cert-manager-acme-self-check",
        podLabels: controller,
        ...toEndpoint(args.egress.gatewayAddress),
      });
      cm("acme-self-check-in-cluster", {
        name: "cert-manager-acme-self-check-in-cluster",
        podLabels: controller,
        direction: "egress",
        peers: [{ namespace: args.gatewayNamespace, podLabels: envoy }],
        ports: [10080],
      });
      // The proxies' side of it: their from-anywhere rule is an ipBlock, which a CNI may not apply
      // to pods (Cilium does not), so the controller is named as a pod.
      gw("acme-self-check-from-cert-manager", {
        name: "envoy-acme-self-check-from-cert-manager",
        podLabels: envoy,
        direction: "ingress",
        peers: [{ namespace: args.securityNamespace, podLabels: controller }],
        ports: [10080],
      });
    }
    // The chart's ServiceMonitor scrapes the controller, the webhook and the CA injector.
    cm("metrics-from-prometheus", {
      name: "cert-manager-metrics-from-prometheus",
      ...scrapedByPrometheus(certManagerPods, [CERT_MANAGER_METRICS_PORT], args.monitoringNamespace),
    });
    cm("webhook-from-kubernetes-api", {
      name: "cert-manager-webhook-from-kubernetes-api",
      podLabels: { ...certManagerPods, "app.kubernetes.io/component": "webhook" },
      direction: "ingress",
      peers: [{ cidrs: args.egress.kubernetesApi.cidrs }],
      ports: [10250],
    });
    this.registerOutputs({ host });
  }
}
