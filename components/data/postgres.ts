import * as pulumi from "@pulumi/pulumi";
import { CHARTS, pinnedRelease } from "../charts";
import type { PostgresConfig } from "../config";
import { toEndpoint } from "../platform/networkPolicy";
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from "../platform/securityContext";
import { DELIVERED_SECRETS } from "../secrets/catalog";
import { trafficRules } from "../platform/networkPolicy";
import { dataServiceRules, serviceHost, type DataServiceArgs, type Endpoint } from "./common";
import { keepData } from "../protection";

/** The Cluster's name: its services are `<name>-rw` (primary) and `<name>-ro` (standbys). */
export const POSTGRES_CLUSTER = "doc-rag-postgres";
export const POSTGRES_PORT = 5432;
/** The Cluster's instance pods, as CloudNativePG labels them. */
export const POSTGRES_PODS = { "cnpg.io/cluster": POSTGRES_CLUSTER };
const STATUS_PORT = 8000; // the operator polls each instance here
const METRICS_PORT = 9187;
const OPERATOR_RELEASE = "cnpg";
const OPERATOR_WEBHOOK_PORT = 9443;
const OPERATOR_METRICS_PORT = 8080;

/** The primary's read-write endpoint, as the application's connection URL uses it. */
export function postgresEndpoint(namespace: string): Endpoint {
  return { host: serviceHost(`${POSTGRES_CLUSTER}-rw`, namespace), port: POSTGRES_PORT };
}

export interface PostgresDatabaseArgs extends DataServiceArgs {
  config: PostgresConfig;
  /**
   * The cluster owner's operator, in a review stack: nothing is installed, the Cluster waits for
   * the operator's CRD, and the operator's network paths point at its namespace.
   */
  sharedOperator?: { namespace: string; crds: pulumi.Resource };
  /**
   * Which part to build: the operator (the cluster layer: it installs cluster-wide CRDs and
   * roles), the database (the data layer, after `operatorReady`), or both (one stack).
   */
  part?: "operator" | "database" | "all";
  /** What the database waits for when another stack of the environment installs the operator. */
  operatorReady?: pulumi.Resource;
}

/** CloudNativePG's `cluster` chart values for the backups section (chart 0.5.0, in-tree Barman). */
function backupValues(backups: PostgresConfig["backups"]): Record<string, unknown> {
  if (!backups.enabled) return { enabled: false };
  return {
    enabled: true,
    // The method is per scheduled backup (below): chart 0.5.0 reads no backups.method.
    provider: "s3",
    destinationPath: backups.destinationPath,
    ...(backups.endpointURL ? { endpointURL: backups.endpointURL } : {}),
    s3: {
      region: backups.region ?? "",
      // Without a credentials Secret the pods use the cloud identity of their service account.
      inheritFromIAMRole: !backups.credentialsSecret,
    },
    secret: { create: false, name: backups.credentialsSecret ?? "" },
    wal: { compression: "gzip", encryption: "AES256", maxParallel: 2 },
    data: { compression: "gzip", encryption: "AES256", jobs: 2 },
    scheduledBackups: [
      { name: "daily", schedule: backups.schedule, backupOwnerReference: "self", method: "barmanObjectStore" },
    ],
    retentionPolicy: backups.retention,
  };
}

/**
 * PostgreSQL with CloudNativePG: the operator and one Cluster (the `cluster` chart) with
 * automated failover across `instances`, monitoring (PodMonitor and the chart's alert rules),
 * scheduled backups to an object store, and the application owner's credentials from the
 * `doc-rag/database` secret path (via the catalogue's `doc-rag-postgres-app` Secret).
 */
export class PostgresDatabase extends pulumi.ComponentResource {
  static readonly TYPE = "doc-rag:data:PostgresDatabase";
  readonly endpoint: Endpoint;
  readonly readOnlyEndpoint: Endpoint;
  readonly database: string;

  constructor(name: string, args: PostgresDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super(PostgresDatabase.TYPE, name, {}, opts);
    const cfg = args.config;
    const keep = { parent: this, ...keepData(args.protect) };

    // Protected too: uninstalling the operator removes its CRDs, and with them every Cluster.
    const shared = args.sharedOperator;
    const part = args.part ?? "all";
    const withOperator = part !== "database" && !shared;
    const withDatabase = part !== "operator";
    const installed = (): pulumi.Resource => {
      if (!args.operatorReady) throw new Error("PostgresDatabase: the database part needs operatorReady");
      return args.operatorReady;
    };
    const operator =
      shared?.crds ??
      (!withOperator ? installed() : undefined) ??
      pinnedRelease(
        `${name}-operator`,
        {
          chart: CHARTS.cloudnativePg,
          chartsDir: args.chartsDir,
          name: OPERATOR_RELEASE,
          namespace: args.namespace,
          values: {
            replicaCount: args.highAvailability ? 2 : 1,
            crds: { create: true },
            monitoring: { podMonitorEnabled: true },
            podSecurityContext: RESTRICTED_POD,
            containerSecurityContext: { ...RESTRICTED_CONTAINER, runAsUser: 10001, runAsGroup: 10001 },
            resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
          },
        },
        { ...keep, dependsOn: [args.monitoringCrds] },
      );

    const operatorPods = { "app.kubernetes.io/instance": OPERATOR_RELEASE };
    const api = args.egress.kubernetesApi;
    if (withOperator) this.operatorRules(name, args, operatorPods);
    this.endpoint = postgresEndpoint(args.namespace);
    this.readOnlyEndpoint = { host: serviceHost(`${POSTGRES_CLUSTER}-ro`, args.namespace), port: POSTGRES_PORT };
    this.database = cfg.database;
    if (!withDatabase) {
      this.registerOutputs({});
      return;
    }

    const credentials = DELIVERED_SECRETS.postgres.name;
    pinnedRelease(
      `${name}-cluster`,
      {
        chart: CHARTS.postgresCluster,
        chartsDir: args.chartsDir,
        name: "postgres",
        namespace: args.namespace,
        values: {
          fullnameOverride: POSTGRES_CLUSTER,
          type: "postgresql",
          mode: "standalone",
          version: { postgresql: cfg.postgresVersion },
          cluster: {
            instances: cfg.instances,
            primaryUpdateStrategy: "unsupervised",
            storage: { size: cfg.storageSize, storageClass: cfg.storageClass ?? args.storageClass },
            resources: cfg.resources,
            // Instances on different nodes, so one node's loss is a failover, not an outage.
            affinity: { topologyKey: "kubernetes.io/hostname" },
            enablePDB: true,
            enableSuperuserAccess: false,
            initdb: { database: cfg.database, owner: cfg.owner, secret: { name: credentials } },
            // A review stack's alerts would page the cluster owner's receivers: metrics only.
            monitoring: { enabled: true, podMonitor: { enabled: true }, prometheusRule: { enabled: !shared } },
            podSecurityContext: RESTRICTED_POD,
            securityContext: RESTRICTED_CONTAINER,
          },
          backups: backupValues(cfg.backups),
        },
        timeoutSeconds: 900,
      },
      { ...keep, dependsOn: [operator, args.credentials, args.monitoringCrds] },
    );

    const instances = POSTGRES_PODS;
    const rule = dataServiceRules(this, name, args, {
      service: "postgres",
      pods: instances,
      servicePorts: [POSTGRES_PORT],
      metricsPorts: [METRICS_PORT],
      peers: { name: "replication", ports: [POSTGRES_PORT] },
    });
    rule("status-from-operator", {
      name: "postgres-status-from-operator",
      podLabels: instances,
      direction: "ingress",
      peers: [{ namespace: shared?.namespace ?? args.namespace, podLabels: operatorPods }],
      ports: [STATUS_PORT],
    });
    rule("to-kubernetes-api", {
      name: "postgres-to-kubernetes-api",
      podLabels: instances,
      ...toEndpoint(api),
    });
    if (cfg.backups.enabled) {
      rule("to-object-store", {
        name: "postgres-to-object-store",
        podLabels: instances,
        ...toEndpoint(args.egress.objectStore),
      });
    }

    this.registerOutputs({ endpoint: this.endpoint });
  }

  /** The paths the operator itself needs: the instances' status, the API server, its webhook, metrics. */
  private operatorRules(name: string, args: PostgresDatabaseArgs, operatorPods: Record<string, string>): void {
    const rule = trafficRules(this, name, args.namespace, args.labels);
    const api = args.egress.kubernetesApi;
    const instances = POSTGRES_PODS;
    // The operator reconciles Clusters in every namespace: review stacks on this cluster run theirs.
    rule("operator-to-status", {
      name: "cnpg-operator-to-instances",
      podLabels: operatorPods,
      direction: "egress",
      peers: [{ allNamespaces: true, podLabels: instances }],
      ports: [STATUS_PORT],
    });
    rule("operator-to-kubernetes-api", {
      name: "cnpg-operator-to-kubernetes-api",
      podLabels: operatorPods,
      ...toEndpoint(api),
    });
    rule("webhook-from-kubernetes-api", {
      name: "cnpg-webhook-from-kubernetes-api",
      podLabels: operatorPods,
      direction: "ingress",
      peers: [{ cidrs: api.cidrs }],
      ports: [OPERATOR_WEBHOOK_PORT],
    });
    rule("operator-metrics-from-monitoring", {
      name: "cnpg-operator-metrics-from-monitoring",
      podLabels: operatorPods,
      direction: "ingress",
      peers: [{ namespace: args.monitoringNamespace }],
      ports: [OPERATOR_METRICS_PORT],
    });
  }
}
