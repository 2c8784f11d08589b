// Composition root: load the stack config, build the components, export the outputs.
import * as pulumi from "@pulumi/pulumi";
import { dataEndpoints, dataServices } from "./components/data";
import { Delivery } from "./components/delivery";
import { GitHubGovernance } from "./components/governance/github";
import { ReviewStackTtl } from "./components/governance/reviewTtl";
import { postgresEndpoint } from "./components/data/postgres";
import { keepConfigSecretsSecret, loadConfig } from "./components/config";
import { Observability } from "./components/observability";
import { ApplicationMetrics } from "./components/observability/scraping";
import { ClusterAddons } from "./components/platform/addons";
import { namespaceNames, ownedRoles, platformNamespaces } from "./components/platform/namespaces";
import { kubernetesProvider } from "./components/platform/provider";
import { SharedCluster } from "./components/platform/sharedCluster";
import { PlatformSecrets } from "./components/secrets";

const config = loadConfig();
// A value set as a secret stays secret in every resource and output, whichever key holds it.
const secretWhereSet = keepConfigSecretsSecret();
const provider = kubernetesProvider(config);
const platform = platformNamespaces(config, provider);
// A review stack uses the operators of the stack that owns its cluster; every other stack installs them.
const shared =
  config.review &&
  new SharedCluster(
    "cluster",
    { postgresOperatorNamespace: config.review.postgresOperatorNamespace },
    { providers: [provider] },
  );
const monitoringCrds = shared
  ? shared.monitoringCrds
  : new ClusterAddons(
      "addons",
      { monitoringNamespace: platform.names.monitoring, chartsDir: config.chartsDir },
      { providers: [provider] },
    ).monitoringCrds;

const secrets = new PlatformSecrets(
  "secrets",
  {
    environment: config.environment,
    chartsDir: config.chartsDir,
    namespaces: platform.names,
    ownedRoles: ownedRoles(config),
    ...(config.vault ? { vault: config.vault } : {}),
    ...(config.vaultToken ? { vaultToken: config.vaultToken } : {}),
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
  { providers: [provider] },
);
const data = dataServices(
  config,
  platform,
  secrets,
  monitoringCrds,
  { providers: [provider] },
  shared?.postgresOperator,
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
      { providers: [provider] },
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
    { providers: [provider] },
  );
}

const delivery = new Delivery(
  "delivery",
  {
    environment: config.environment,
    chartsDir: config.chartsDir,
    namespaces: platform.names,
    dataNamespace: config.namespaces.data.name,
    monitoringNamespace: config.namespaces.monitoring.name,
    services: config.services,
    delivery: config.delivery,
    egress: config.egress,
    tracingEndpoint: observability?.tracingEndpoint,
    sharedCluster: !!shared,
    applicationSecret: secrets.secretOf("application"),
    monitoringCrds,
  },
  { providers: [provider], dependsOn: [data.postgres, data.valkey, data.qdrant] },
);

// Dev has no GitHub governance (the config refuses it there).
const governance =
  config.github && config.environment !== "dev"
    ? new GitHubGovernance("github", {
        environment: config.environment,
        config: config.github,
        ...(config.githubToken ? { token: config.githubToken } : {}),
        environmentSecrets: config.githubEnvironmentSecrets ?? {},
        protect: config.protectStatefulResources,
      })
    : undefined;

// Review stacks are destroyed after their TTL even if their pull request stays open.
const reviewTtl = config.review && new ReviewStackTtl("review-ttl", { ttlHours: config.review.ttlHours });

export const environment = config.environment;
export const cluster = secretWhereSet(config.clusterName);
export const namespaces = secretWhereSet(namespaceNames(platform));
export const secretsBackend = secretWhereSet(secrets.backend);
export const endpoints = secretWhereSet(dataEndpoints(data));
export const tracingEndpoint = secretWhereSet(observability?.tracingEndpoint);
export const apiHost = secretWhereSet(delivery.apiHost);
/** The image each service runs: by digest (dev may run a tag it has no digest for). */
export const images = secretWhereSet(
  pulumi.all(Object.fromEntries(Object.entries(delivery.services).map(([name, service]) => [name, service.image]))),
);
/** The status checks the rulesets require (from the pipeline model); none without GitHub governance. */
export const requiredChecks = governance?.requiredChecks ?? [];
/** When a review stack is destroyed (its TTL); none outside review stacks. */
export const reviewExpiresAt = reviewTtl ? reviewTtl.expiresAt : undefined;
