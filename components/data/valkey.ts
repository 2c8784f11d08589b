import * as pulumi from "@pulumi/pulumi";
import { CHARTS, pinnedRelease } from "../charts";
import type { ValkeyConfig } from "../config";
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from "../platform/securityContext";
import { DELIVERED_SECRETS } from "../secrets/catalog";
import { dataServiceRules, serviceHost, type DataServiceArgs, type Endpoint } from "./common";
import { keepData } from "../protection";

const RELEASE = "valkey";
const SERVICE = "doc-rag-valkey";
export const VALKEY_PORT = 6379;
const METRICS_PORT = 9121;
export const VALKEY_PODS = { "app.kubernetes.io/name": "valkey", "app.kubernetes.io/instance": RELEASE };
/** The chart's UID/GID for Valkey (values.yaml at 0.9.4). */
const VALKEY_USER = 1000;

export interface ValkeyCacheArgs extends DataServiceArgs {
  config: ValkeyConfig;
}

/**
 * The Redis-compatible cache: Valkey's official chart. With replicas, a primary and
 * `replicas` streaming replicas, each with its own volume; without, one instance on a volume.
 * ACL authentication with the generated password (the `doc-rag/redis` secret path).
 */
export class ValkeyCache extends pulumi.ComponentResource {
  readonly endpoint: Endpoint;

  constructor(name: string, args: ValkeyCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:data:ValkeyCache", name, {}, opts);
    const cfg = args.config;
    const replicated = cfg.replicas > 0;
    const storageClass = cfg.storageClass ?? args.storageClass;
    const container = { ...RESTRICTED_CONTAINER, runAsUser: VALKEY_USER };
    pinnedRelease(
      `${name}-release`,
      {
        chart: CHARTS.valkey,
        chartsDir: args.chartsDir,
        name: RELEASE,
        namespace: args.namespace,
        values: {
          fullnameOverride: SERVICE,
          serviceAccount: { create: true, automount: false },
          auth: {
            enabled: true,
            usersExistingSecret: DELIVERED_SECRETS.valkey.name,
            aclUsers: { default: { permissions: "~* &* +@all" } },
          },
          replica: replicated
            ? {
                enabled: true,
                replicas: cfg.replicas,
                replicationUser: "default",
                persistence: { size: cfg.storageSize, storageClass },
              }
            : { enabled: false },
          dataStorage: replicated
            ? { enabled: false }
            : { enabled: true, requestedSize: cfg.storageSize, className: storageClass, keepPvc: true },
          resources: cfg.resources,
          podSecurityContext: {
            ...RESTRICTED_POD,
            fsGroup: VALKEY_USER,
            runAsUser: VALKEY_USER,
            runAsGroup: VALKEY_USER,
          },
          securityContext: container,
          // No probe settings: the chart at 0.9.4 writes Valkey's startup and liveness probes itself
          // (valkey-cli ping) and reads no probe value; a `readinessProbe` here never took effect.
          podDisruptionBudget: { enabled: replicated, maxUnavailable: 1 },
          metrics: {
            enabled: true,
            exporter: {
              resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "100m", memory: "128Mi" } },
              securityContext: container,
            },
            serviceMonitor: { enabled: true },
          },
        },
      },
      {
        parent: this,
        ...keepData(args.protect),
        dependsOn: [args.credentials, args.monitoringCrds],
      },
    );

    dataServiceRules(this, name, args, {
      service: "valkey",
      pods: VALKEY_PODS,
      servicePorts: [VALKEY_PORT],
      metricsPorts: [METRICS_PORT],
      ...(replicated ? { peers: { name: "replication", ports: [VALKEY_PORT] } } : {}),
    });

    this.endpoint = { host: serviceHost(SERVICE, args.namespace), port: VALKEY_PORT };
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
