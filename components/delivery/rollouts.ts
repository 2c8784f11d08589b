import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { CHARTS, pinnedRelease, type ChartSource } from "../charts";
import type { DeliveryConfig } from "../config";
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from "../platform/securityContext";

export const ROLLOUTS_API = "argoproj.io/v1alpha1";
export const SUCCESS_RATE = "canary-success-rate";
export const LATENCY = "canary-latency";
/** The Argo Rollouts traffic-router plugin for the Gateway API, pinned to a release. */
export const GATEWAY_API_PLUGIN = {
  name: "argoproj-labs/gatewayAPI",
  location:
    "https://github.com/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi/releases/download/v0.4.0/gatewayapi-plugin-linux-amd64",
};

/** The original document's canary steps (§4.2), their pauses scaled for faster stacks. */
export function canarySteps(delivery: DeliveryConfig): Record<string, unknown>[] {
  const pause = (seconds: number) => ({
    pause: { duration: `${Math.max(1, Math.round(seconds * delivery.pauseScale))}s` },
  });
  return [
    { setWeight: 5 },
    // The first pause waits for a person, unless the stack promotes on its own.
    delivery.autoPromote ? pause(120) : { pause: {} },
    { setWeight: 10 },
    pause(120),
    { setWeight: 20 },
    pause(300),
    { setWeight: 50 },
    pause(600),
    { setWeight: 80 },
    pause(600),
    { setWeight: 100 },
  ];
}

const ANALYSIS_ARGS = [{ name: "canary-hash", valueFrom: { podTemplateHashValue: "Latest" } }];
const TEMPLATES = [{ templateName: SUCCESS_RATE }, { templateName: LATENCY }];

export function canaryStrategy(
  delivery: DeliveryConfig,
  route?: { stableService: string; canaryService: string; httpRoute: string; namespace: pulumi.Input<string> },
): Record<string, unknown> {
  return {
    canary: {
      ...(route
        ? {
            stableService: route.stableService,
            canaryService: route.canaryService,
            trafficRouting: {
              plugins: { [GATEWAY_API_PLUGIN.name]: { httpRoute: route.httpRoute, namespace: route.namespace } },
            },
          }
        : {}),
      steps: canarySteps(delivery),
      analysis: { templates: TEMPLATES, args: ANALYSIS_ARGS, startingStep: 2 },
    },
  };
}

/** The original document's blue-green for the api (§3.2, §4.1): manual promotion, analysis before and after. */
export function blueGreenStrategy(activeService: string, previewService: string): Record<string, unknown> {
  return {
    blueGreen: {
      activeService,
      previewService,
      autoPromotionEnabled: false,
      scaleDownDelaySeconds: 30,
      prePromotionAnalysis: { templates: TEMPLATES, args: ANALYSIS_ARGS },
      postPromotionAnalysis: { templates: TEMPLATES, args: ANALYSIS_ARGS },
    },
  };
}

/** The canary analysis of the original document (§4.2): success rate >= 0.95, p99 <= 0.5s. */
export function analysisTemplates(
  args: { namespace: pulumi.Input<string>; labels: Record<string, string>; prometheusUrl: string },
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource[] {
  const template = (name: string, metric: string, successCondition: string, query: string) =>
    new k8s.apiextensions.CustomResource(
      `analysis-${name}`,
      {
        apiVersion: ROLLOUTS_API,
        kind: "AnalysisTemplate",
        metadata: { name, namespace: args.namespace, labels: args.labels },
        spec: {
          args: [{ name: "canary-hash" }],
          metrics: [
            {
              name: metric,
              interval: "60s",
              count: 5,
              successCondition,
              provider: { prometheus: { address: args.prometheusUrl, query } },
            },
          ],
        },
      },
      opts,
    );
  const hash = 'rollouts_pod_template_hash="{{args.canary-hash}}"';
  return [
    template(
      SUCCESS_RATE,
      "success-rate",
      "result[0] >= 0.95",
      `sum(rate(http_requests_total{status!~"5.*",${hash}}[2m])) /\nsum(rate(http_requests_total{${hash}}[2m]))\n`,
    ),
    template(
      LATENCY,
      "p99-latency",
      "result[0] <= 0.5",
      `histogram_quantile(0.99,\n  rate(http_request_duration_seconds_bucket{${hash}}[2m])\n)\n`,
    ),
  ];
}

/** The controller's metrics port (the chart's `controller.metrics.port`). */
export const ROLLOUTS_METRICS_PORT = 8090;

/** The Argo Rollouts controller (chart values read at 2.40.5) with the Gateway API plugin. */
export function rolloutsController(
  resourceName: string,
  args: { namespace: pulumi.Input<string>; highAvailability: boolean } & ChartSource,
  opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
  return pinnedRelease(
    resourceName,
    {
      chart: CHARTS.argoRollouts,
      chartsDir: args.chartsDir,
      name: "argo-rollouts",
      namespace: args.namespace,
      values: {
        installCRDs: true,
        keepCRDs: true,
        controller: {
          replicas: args.highAvailability ? 2 : 1,
          trafficRouterPlugins: [GATEWAY_API_PLUGIN],
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
          metrics: { enabled: true, serviceMonitor: { enabled: true } },
          pdb: { enabled: args.highAvailability, minAvailable: 1 },
        },
        podSecurityContext: { ...RESTRICTED_POD },
        containerSecurityContext: RESTRICTED_CONTAINER,
        dashboard: { enabled: false },
      },
    },
    opts,
  );
}
