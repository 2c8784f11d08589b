import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { standardLabels } from "../labels";
import type { PlatformNamespaces } from "../platform/namespaces";
import type { PlatformSecrets } from "../secrets";
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
  namespaces: PlatformNamespaces,
  secrets: PlatformSecrets,
  monitoringCrds: pulumi.Resource,
  opts: pulumi.ComponentResourceOptions,
  sharedOperator?: PostgresDatabaseArgs["sharedOperator"],
): DataServices {
  const base = {
    namespace: config.namespaces.data.name,
    applicationNamespace: namespaces.application.name,
    monitoringNamespace: namespaces.names.monitoring,
    labels: standardLabels("data", config.environment),
    storageClass: config.storageClass,
    protect: config.protectStatefulResources,
    highAvailability: config.environment === "production",
    egress: config.egress,
    chartsDir: config.chartsDir,
    monitoringCrds,
  };
  // The namespace must exist before anything is installed into it.
  const inData = { ...opts, dependsOn: [namespaces.data] };
  return {
    postgres: new PostgresDatabase(
      "postgres",
      {
        ...base,
        config: config.postgres,
        credentials: secrets.secretOf("postgres"),
        ...(sharedOperator ? { sharedOperator } : {}),
      },
      inData,
    ),
    valkey: new ValkeyCache(
      "valkey",
      { ...base, config: config.valkey, credentials: secrets.secretOf("valkey") },
      inData,
    ),
    qdrant: new QdrantStore(
      "qdrant",
      { ...base, config: config.qdrant, credentials: secrets.secretOf("qdrant") },
      inData,
    ),
  };
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
