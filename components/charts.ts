/**
 * Every third-party Helm chart the platform installs, pinned to an exact version, and the one
 * way to install one: atomic, so a failed upgrade rolls back instead of leaving half a release.
 * Values are set only after reading the chart's values.yaml at that version.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

export interface Chart {
  /** The chart's name in its repository, or its full oci:// reference. */
  chart: string;
  version: string;
  /** The HTTPS repository; none for an oci:// chart. */
  repo?: string;
}

export const CHARTS = {
  prometheusOperatorCrds: {
    chart: "prometheus-operator-crds",
    version: "31.0.1",
    repo: "https://prometheus-community.github.io/helm-charts",
  },
  kubePrometheusStack: {
    chart: "kube-prometheus-stack",
    version: "88.4.0",
    repo: "https://prometheus-community.github.io/helm-charts",
  },
  opentelemetryOperator: {
    chart: "opentelemetry-operator",
    version: "0.115.0",
    repo: "https://open-telemetry.github.io/opentelemetry-helm-charts",
  },
  fluentBit: { chart: "fluent-bit", version: "0.47.0", repo: "https://fluent.github.io/helm-charts" },
  falco: { chart: "falco", version: "9.1.0", repo: "https://falcosecurity.github.io/charts" },
  envoyGateway: { chart: "oci://docker.io/envoyproxy/gateway-helm", version: "v1.9.0" },
  certManager: { chart: "cert-manager", version: "v1.19.1", repo: "https://charts.jetstack.io" },
  argoRollouts: { chart: "argo-rollouts", version: "2.40.5", repo: "https://argoproj.github.io/argo-helm" },
  prometheusAdapter: {
    chart: "prometheus-adapter",
    version: "5.3.0",
    repo: "https://prometheus-community.github.io/helm-charts",
  },
  externalSecrets: { chart: "external-secrets", version: "2.8.0", repo: "https://charts.external-secrets.io" },
  cloudnativePg: { chart: "cloudnative-pg", version: "0.29.0", repo: "https://cloudnative-pg.github.io/charts" },
  postgresCluster: { chart: "cluster", version: "0.5.0", repo: "https://cloudnative-pg.github.io/charts" },
  valkey: { chart: "valkey", version: "0.9.4", repo: "https://valkey.io/valkey-helm/" },
  qdrant: { chart: "qdrant", version: "1.16.2", repo: "https://qdrant.github.io/qdrant-helm" },
} as const satisfies Record<string, Chart>;

/**
 * A chart's folder at its version under a root laid out <chart>/<version>/ (an oci:// chart by its
 * last path segment): a local chart directory (`npm run charts:pull`), and the upstream chart data.
 */
export function chartVersionDir(root: string, chart: Chart): string {
  return path.join(root, chart.chart.split("/").pop() ?? chart.chart, chart.version);
}

/**
 * The chart to install or render from a local chart directory: the archive `helm pull` left in its
 * <chart>/<version>/ folder, or an unpacked chart (a folder with Chart.yaml, that folder itself or
 * one level below). Undefined if absent.
 */
export function localChart(chartsDir: string, chart: Chart): string | undefined {
  const dir = chartVersionDir(chartsDir, chart);
  if (!fs.existsSync(dir)) return undefined;
  if (fs.existsSync(path.join(dir, "Chart.yaml"))) return dir;
  for (const entry of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    if (entry.endsWith(".tgz")) return full;
    if (fs.existsSync(path.join(full, "Chart.yaml"))) return full;
  }
  return undefined;
}

/** Where a component's charts come from: their repositories, or a local chart directory. */
export interface ChartSource {
  /** A local chart directory laid out <chart>/<version>/ (`doc-rag:chartsDir`); unset: the repositories. */
  chartsDir?: string | undefined;
}

export interface ReleaseArgs extends ChartSource {
  chart: Chart;
  /** The Helm release name; chart resources are named after it. */
  name: string;
  namespace: pulumi.Input<string>;
  values: pulumi.Input<Record<string, unknown>>;
  /** How long Helm waits for the release to become ready. */
  timeoutSeconds?: number;
}

/** A pinned, atomic Helm release into an existing namespace, from its repository or a local chart directory. */
export function pinnedRelease(
  resourceName: string,
  args: ReleaseArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
  const local = args.chartsDir === undefined ? undefined : localChart(args.chartsDir, args.chart);
  if (args.chartsDir !== undefined && local === undefined) {
    // The config refuses a directory that lacks a pinned chart; this guards other callers.
    throw new Error(`${chartVersionDir(args.chartsDir, args.chart)} holds no chart (npm run charts:pull fills it)`);
  }
  return new k8s.helm.v3.Release(
    resourceName,
    {
      name: args.name,
      ...(local
        ? { chart: local }
        : {
            chart: args.chart.chart,
            version: args.chart.version,
            ...(args.chart.repo ? { repositoryOpts: { repo: args.chart.repo } } : {}),
          }),
      namespace: args.namespace,
      createNamespace: false,
      values: args.values,
      atomic: true,
      cleanupOnFail: true,
      timeout: args.timeoutSeconds ?? 600,
    },
    opts,
  );
}
