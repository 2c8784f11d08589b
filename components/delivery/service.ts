import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DeliveryConfig, ServiceConfig } from "../config";
import { PROJECT } from "../config";
import { trafficRules, type Peer } from "../platform/networkPolicy";
import { METRICS_PORT, type DocRagService } from "../services";
import { autoscaler, autoscalerSpec } from "./autoscaling";
import { imageReference } from "./images";
import { HTTP_PORT, podTemplate } from "./podTemplate";
import { blueGreenStrategy, canaryStrategy, ROLLOUTS_API } from "./rollouts";

/** How a service is rolled out: a plain Deployment (dev), a canary, or the api's blue-green. */
export type Strategy = "deployment" | "canary" | "blueGreen";

/** Pods a service talks to: what they are, their namespace and labels, the ports. */
export interface Destination {
  name: string;
  namespace: pulumi.Input<string>;
  podLabels: Record<string, string>;
  ports: number[];
}

export interface DocRagServiceArgs {
  name: DocRagService;
  config: ServiceConfig;
  delivery: DeliveryConfig;
  strategy: Strategy;
  namespace: pulumi.Input<string>;
  labels: Record<string, string>;
  spreadByHost: boolean;
  tracingEndpoint: string | undefined;
  /** The HTTPRoute the canary splits traffic through (the api's, outside production). */
  httpRoute?: string;
  /** Who may call this service: other services by name, or a whole namespace (the gateway's). */
  callers: (DocRagService | { namespace: pulumi.Input<string> })[];
  /** Where this service may go: the services it calls, the data services, the collector. */
  destinations: Destination[];
  /** What must exist first: the Rollout CRD's release, the app's config and secrets. */
  dependsOn: pulumi.Resource[];
}

/** The Service names a strategy needs; the first is what callers use. */
export function serviceNames(name: string, strategy: Strategy, routed: boolean): string[] {
  if (strategy === "blueGreen") return [`${name}-active`, `${name}-preview`];
  if (strategy === "canary" && routed) return [name, `${name}-stable`, `${name}-canary`];
  return [name];
}

/**
 * One Doc-RAG service: its ServiceAccount (no token), a Rollout (a Deployment in dev), its
 * Services, a PodDisruptionBudget, an autoscaler, and NetworkPolicies for exactly the calls
 * it makes and takes.
 */
export class DocRagServiceComponent extends pulumi.ComponentResource {
  readonly serviceName: string;
  /** The image the service runs: by digest, or by tag in dev when no digest is set. */
  readonly image: pulumi.Output<string>;

  constructor(name: string, args: DocRagServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:delivery:Service", name, {}, opts);
    const svc = args.name;
    const labels = { ...args.labels, "app.kubernetes.io/name": svc, "app.kubernetes.io/component": svc };
    const selector = { "app.kubernetes.io/name": svc, "app.kubernetes.io/part-of": PROJECT };
    const meta = (objectName: string) => ({ name: objectName, namespace: args.namespace, labels });
    const child = { parent: this };

    const account = new k8s.core.v1.ServiceAccount(
      `${name}-account`,
      { metadata: meta(`${PROJECT}-${svc}`), automountServiceAccountToken: false },
      child,
    );
    this.image = imageReference(args.config.image);
    const template = podTemplate({
      name: svc,
      labels,
      image: this.image,
      config: args.config,
      serviceAccount: `${PROJECT}-${svc}`,
      spreadByHost: args.spreadByHost,
      tracingEndpoint: args.tracingEndpoint,
    });

    const routed = args.strategy === "canary" && !!args.httpRoute;
    const names = serviceNames(svc, args.strategy, routed);
    for (const serviceName of names) {
      new k8s.core.v1.Service(
        `${name}-${serviceName}`,
        {
          metadata: meta(serviceName),
          spec: {
            type: "ClusterIP",
            selector,
            ports: [
              { name: "http", port: HTTP_PORT, targetPort: "http" },
              { name: METRICS_PORT.name, port: METRICS_PORT.port, targetPort: METRICS_PORT.name },
            ],
          },
        },
        child,
      );
    }
    this.serviceName = names[0] ?? svc;

    const after = { ...child, dependsOn: [account, ...args.dependsOn] };
    let target: { apiVersion: string; kind: string; name: string };
    if (args.strategy === "deployment") {
      new k8s.apps.v1.Deployment(
        `${name}-deployment`,
        {
          metadata: meta(svc),
          spec: { replicas: args.config.replicas, selector: { matchLabels: selector }, template },
        },
        after,
      );
      target = { apiVersion: "apps/v1", kind: "Deployment", name: svc };
    } else {
      const strategy =
        args.strategy === "blueGreen"
          ? blueGreenStrategy(`${svc}-active`, `${svc}-preview`)
          : canaryStrategy(
              args.delivery,
              routed && args.httpRoute
                ? {
                    stableService: `${svc}-stable`,
                    canaryService: `${svc}-canary`,
                    httpRoute: args.httpRoute,
                    namespace: args.namespace,
                  }
                : undefined,
            );
      new k8s.apiextensions.CustomResource(
        `${name}-rollout`,
        {
          apiVersion: ROLLOUTS_API,
          kind: "Rollout",
          metadata: meta(svc),
          spec: {
            replicas: args.config.replicas,
            revisionHistoryLimit: 5,
            selector: { matchLabels: selector },
            template,
            strategy,
          },
        },
        after,
      );
      target = { apiVersion: ROLLOUTS_API, kind: "Rollout", name: svc };
    }

    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      { metadata: meta(svc), spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
      child,
    );
    autoscaler(
      `${name}-autoscaler`,
      { name: svc, namespace: args.namespace, labels, spec: autoscalerSpec(svc, args.config, target) },
      child,
    );

    const rule = trafficRules(this, name, args.namespace, labels);
    const callerPeers: Peer[] = args.callers.map((c) =>
      typeof c === "string"
        ? { namespace: args.namespace, podLabels: { "app.kubernetes.io/name": c } }
        : { namespace: c.namespace },
    );
    if (callerPeers.length) {
      rule("callers", {
        name: `${svc}-from-callers`,
        podLabels: selector,
        direction: "ingress",
        peers: callerPeers,
        ports: [HTTP_PORT],
      });
    }
    args.destinations.forEach((d) =>
      rule(`to-${d.name}`, {
        name: `${svc}-to-${d.name}`,
        podLabels: selector,
        direction: "egress",
        peers: [{ namespace: d.namespace, podLabels: d.podLabels }],
        ports: d.ports,
      }),
    );
    this.registerOutputs({ serviceName: this.serviceName, image: this.image });
  }
}
