/**
 * The platform's layers, each built from the stack config and what the layers below it provide.
 * In one stack (review stacks, the single-stack project) a layer hands the next its resources; in
 * the per-lifecycle projects the same values arrive by stack reference (./references.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { Consumer } from "../secrets/catalog";
import { dataEndpoints, dataServices, postgresOperator, type DataServices, type PostgresPlacement } from "../data";
import { Delivery, type DeliveryPart } from "../delivery";
import { GitHubGovernance } from "../governance/github";
import { ReviewStackTtl } from "../governance/reviewTtl";
import { postgresEndpoint } from "../data/postgres";
import { Observability } from "../observability";
import { ApplicationMetrics } from "../observability/scraping";
import { ClusterAddons } from "../platform/addons";
import { namespaceNames, ownedRoles, platformNamespaces, type PlatformNamespaces } from "../platform/namespaces";
import { SharedCluster } from "../platform/sharedCluster";
import { PlatformSecrets } from "../secrets";
import type { NamespaceRole } from "../config/names";
import type { ClusterContract } from "./contract";

/** What the data and app layers build on, from the cluster layer's resources or its stack's outputs. */
export interface ClusterView {
  /** Every role's namespace name. */
  names: Record<NamespaceRole, pulumi.Output<string>>;
  /** What must exist before anything is installed into the data namespace. */
  dataNamespaceReady: pulumi.Resource;
  /** The monitoring CRDs (ServiceMonitor, PrometheusRule): custom resources wait for them. */
  monitoringCrds: pulumi.Resource;
  /** What creates a consumer's Secret: a workload waits for it. */
  secretOf(consumer: Consumer): pulumi.Resource;
  /** Where the services send traces; undefined on a shared cluster. */
  tracingEndpoint: string | undefined;
  /** A review stack uses the cluster owner's operators. */
  shared?: SharedCluster;
}

/** The cluster layer: namespaces and quotas, cluster add-ons, secrets, observability. */
export interface ClusterLayer {
  view: ClusterView;
  platform: PlatformNamespaces;
  secrets: PlatformSecrets;
  observability: Observability | undefined;
}

type Providers = { providers: [k8s.Provider] };

export function clusterLayer(config: StackConfig, provider: k8s.Provider): ClusterLayer {
  const opts: Providers = { providers: [provider] };
  const platform = platformNamespaces(config, provider);
  // A review stack uses the operators of the stack that owns its cluster; every other stack installs them.
  const shared =
    config.review &&
    new SharedCluster("cluster", { postgresOperatorNamespace: config.review.postgresOperatorNamespace }, opts);
  const monitoringCrds = shared
    ? shared.monitoringCrds
    : new ClusterAddons("addons", { monitoringNamespace: platform.names.monitoring, chartsDir: config.chartsDir }, opts)
        .monitoringCrds;

  const secrets = new PlatformSecrets(
    "secrets",
    {
      environment: config.environment,
      chartsDir: config.chartsDir,
      namespaces: platform.names,
      ownedRoles: ownedRoles(config),
      ...(config.vault ? { vault: config.vault } : {}),
      ...(config.vaultToken ? { vaultToken: config.vaultToken } : {}),
      ...(config.registryAuth ? { registryAuth: config.registryAuth } : {}),
      egress: config.egress,
      database: {
        ...postgresEndpoint(config.namespaces.data.name),
        database: config.postgres.database,
        owner: config.postgres.owner,
      },
      protect: config.protectStatefulResources,
      highAvailability: config.environment === "production",
      monitoringCrds,
    },
    opts,
  );
  const observability = shared
    ? undefined
    : new Observability(
        "observability",
        {
          environment: config.environment,
          chartsDir: config.chartsDir,
          clusterName: config.clusterName,
          namespaces: platform.names,
          dataNamespace: config.namespaces.data.name,
          applicationNamespace: config.namespaces.application.name,
          monitoringNamespace: config.namespaces.monitoring.name,
          config: config.observability,
          storageClass: config.storageClass,
          protect: config.protectStatefulResources,
          egress: config.egress,
          monitoringCrds,
          grafanaAdmin: secrets.secretOf("grafana"),
          receiverUrls: {
            ...(config.alertPagingUrl ? { paging: config.alertPagingUrl } : {}),
            ...(config.alertChatUrl ? { chat: config.alertChatUrl } : {}),
          },
        },
        opts,
      );
  if (shared) {
    // The owner's Prometheus scrapes the review stack's services.
    new ApplicationMetrics(
      "observability",
      {
        environment: config.environment,
        applicationNamespace: platform.names.application,
        prometheusNamespace: platform.names.monitoring,
        monitoringCrds,
      },
      opts,
    );
  }
  return {
    platform,
    secrets,
    observability,
    view: {
      names: platform.names,
      dataNamespaceReady: platform.data,
      monitoringCrds,
      secretOf: (consumer) => secrets.secretOf(consumer),
      tracingEndpoint: observability?.tracingEndpoint,
      ...(shared ? { shared } : {}),
    },
  };
}

/** The cluster layer's contract with the layers above it (the cluster stack's `platform` output). */
export function clusterContractOf(config: StackConfig, cluster: ClusterLayer): pulumi.Output<ClusterContract> {
  // The cluster project refuses review stacks (checkLayer), the only ones without a collector.
  const observability = cluster.observability;
  if (!observability) throw new Error("the cluster project runs no review stack: its stack has a trace collector");
  return pulumi.all(cluster.platform.names).apply((namespaces) => ({
    environment: config.environment,
    namespaces: namespaces as ClusterContract["namespaces"],
    secretsBackend: cluster.secrets.backend,
    tracingEndpoint: observability.tracingEndpoint,
  }));
}

/**
 * The cluster as the layers above see it from its stack's outputs: every name as the cluster
 * stack recorded it, and every dependency on the reference (the stack is brought up first).
 */
export function clusterFromReference(contract: ClusterContract, reference: pulumi.Resource): ClusterView {
  return {
    names: Object.fromEntries(
      Object.entries(contract.namespaces).map(([role, name]) => [role, pulumi.output(name)]),
    ) as Record<NamespaceRole, pulumi.Output<string>>,
    dataNamespaceReady: reference,
    monitoringCrds: reference,
    secretOf: () => reference,
    tracingEndpoint: contract.tracingEndpoint,
  };
}

/** What the app layer waits for: the data services (their resources, or the data stack's reference). */
export interface DataView {
  ready: pulumi.Resource[];
}

export function dataLayer(
  config: StackConfig,
  cluster: ClusterView,
  provider: k8s.Provider,
  postgres: PostgresPlacement = cluster.shared ? { sharedOperator: cluster.shared.postgresOperator } : {},
): { services: DataServices; view: DataView } {
  const services = dataServices(config, cluster, { providers: [provider] }, postgres);
  return { services, view: { ready: [services.postgres, services.valkey, services.qdrant] } };
}

export { dataEndpoints, postgresOperator };

/**
 * Delivery: in one stack, all of it; across projects, its controllers and edge with the cluster
 * (they change with charts, not releases) and its services with the app. Both parts keep the
 * component's name, so each object's URN differs from the single stack's only in the project.
 */
export function appLayer(
  config: StackConfig,
  cluster: ClusterView,
  data: DataView,
  provider: k8s.Provider,
  part: DeliveryPart = "all",
): Delivery {
  return new Delivery(
    "delivery",
    {
      environment: config.environment,
      chartsDir: config.chartsDir,
      namespaces: cluster.names,
      dataNamespace: config.namespaces.data.name,
      monitoringNamespace: config.namespaces.monitoring.name,
      services: config.services,
      delivery: config.delivery,
      egress: config.egress,
      tracingEndpoint: cluster.tracingEndpoint,
      sharedCluster: !!cluster.shared,
      applicationSecret: cluster.secretOf("application"),
      monitoringCrds: cluster.monitoringCrds,
      part,
    },
    { providers: [provider], dependsOn: data.ready },
  );
}

/** The image each service runs: by digest (dev may run a tag it has no digest for). */
export function deliveredImages(delivery: Delivery): pulumi.Output<Record<string, string>> {
  return pulumi.all(
    Object.fromEntries(Object.entries(delivery.services).map(([name, service]) => [name, service.image])),
  ) as pulumi.Output<Record<string, string>>;
}

/** GitHub governance (staging and production; the config refuses it in dev). */
export function governanceLayer(config: StackConfig, releaseProject?: string): GitHubGovernance | undefined {
  return config.github && config.environment !== "dev"
    ? new GitHubGovernance("github", {
        environment: config.environment,
        config: config.github,
        ...(config.githubToken ? { token: config.githubToken } : {}),
        environmentSecrets: config.githubEnvironmentSecrets ?? {},
        protect: config.protectStatefulResources,
        ...(releaseProject ? { releaseProject } : {}),
      })
    : undefined;
}

/** Review stacks are destroyed after their TTL even if their pull request stays open. */
export function reviewTtl(config: StackConfig): ReviewStackTtl | undefined {
  return config.review ? new ReviewStackTtl("review-ttl", { ttlHours: config.review.ttlHours }) : undefined;
}

export { namespaceNames };
