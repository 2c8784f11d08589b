import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { standardLabels } from "../labels";
import type { ClusterView } from "../environment/layers";
import { PostgresDatabase, type PostgresDatabaseArgs } from "./postgres";
import { QdrantStore } from "./qdrant";
import { ValkeyCache } from "./valkey";

export interface DataServices {
  postgres: PostgresDatabase;
  valkey: ValkeyCache;
  qdrant: QdrantStore;
}

/**
 * PostgreSQL, Valkey and Qdrant in the data namespace, each with its credentials Secret; a
 * review stack's PostgreSQL uses the cluster owner's operator (`sharedOperator`).
 */
export function dataServices(
  config: StackConfig,
  cluster: ClusterView,
  opts: pulumi.ComponentResourceOptions,
  postgres: PostgresPlacement = {},
): DataServices {
  const base = dataArgs(config, cluster);
  // The namespace must exist before anything is installed into it.
  const inData = { ...opts, dependsOn: [cluster.dataNamespaceReady] };
  return {
    postgres: new PostgresDatabase(
      "postgres",
      { ...base, config: config.postgres, credentials: cluster.secretOf("postgres"), ...postgres },
      inData,
    ),
    valkey: new ValkeyCache(
      "valkey",
      { ...base, config: config.valkey, credentials: cluster.secretOf("valkey") },
      inData,
    ),
    qdrant: new QdrantStore(
      "qdrant",
      { ...base, config: config.qdrant, credentials: cluster.secretOf("qdrant") },
      inData,
    ),
  };
}

/** Where PostgreSQL's operator comes from: this stack (default), the cluster stack, or the cluster's owner. */
export type PostgresPlacement = Pick<PostgresDatabaseArgs, "sharedOperator" | "part" | "operatorReady">;

/** What every data service's component takes from the config and the cluster. */
function dataArgs(config: StackConfig, cluster: ClusterView) {
  return {
    namespace: config.namespaces.data.name,
    applicationNamespace: cluster.names.application,
    monitoringNamespace: cluster.names.monitoring,
    labels: standardLabels("data", config.environment),
    storageClass: config.storageClass,
    protect: config.protectStatefulResources,
    highAvailability: config.environment === "production",
    egress: config.egress,
    chartsDir: config.chartsDir,
    monitoringCrds: cluster.monitoringCrds,
  };
}

/**
 * CloudNativePG's operator alone, for the cluster layer: it installs cluster-wide CRDs and roles.
 * The component keeps the database's name, so its URNs are the single stack's but for the project.
 */
export function postgresOperator(
  config: StackConfig,
  cluster: ClusterView,
  opts: pulumi.ComponentResourceOptions,
): PostgresDatabase {
  return new PostgresDatabase(
    "postgres",
    {
      ...dataArgs(config, cluster),
      config: config.postgres,
      credentials: cluster.secretOf("postgres"),
      part: "operator",
    },
    { ...opts, dependsOn: [cluster.dataNamespaceReady] },
  );
}

/** Where each data service is reached (no credentials): stack outputs. */
export function dataEndpoints(services: DataServices) {
  return {
    postgres: { ...services.postgres.endpoint, database: services.postgres.database },
    postgresReadOnly: services.postgres.readOnlyEndpoint,
    valkey: services.valkey.endpoint,
    qdrant: services.qdrant.endpoint,
  };
}
