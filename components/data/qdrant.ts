import * as pulumi from "@pulumi/pulumi";
import { CHARTS, pinnedRelease } from "../charts";
import type { QdrantConfig } from "../config";
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from "../platform/securityContext";
import { DELIVERED_SECRETS } from "../secrets/catalog";
import { dataServiceRules, serviceHost, type DataServiceArgs, type Endpoint } from "./common";
import { keepData } from "../protection";

const RELEASE = "qdrant";
const SERVICE = "doc-rag-qdrant";
export const QDRANT_HTTP_PORT = 6333;
export const QDRANT_GRPC_PORT = 6334;
const P2P_PORT = 6335;
export const QDRANT_PODS = { "app.kubernetes.io/name": "qdrant", "app.kubernetes.io/instance": RELEASE };

export interface QdrantStoreArgs extends DataServiceArgs {
  config: QdrantConfig;
}

/**
 * The vector store: Qdrant's official chart, one volume per replica, the API key from the
 * `doc-rag/qdrant` secret path, and a ServiceMonitor on its metrics.
 */
export class QdrantStore extends pulumi.ComponentResource {
  readonly endpoint: Endpoint & { grpcPort: number };

  constructor(name: string, args: QdrantStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:data:QdrantStore", name, {}, opts);
    const cfg = args.config;
    const clustered = cfg.replicas > 1;
    const apiKey = DELIVERED_SECRETS.qdrant;
    const apiKeyRef = { name: apiKey.name, key: apiKey.keys[0].key };
    pinnedRelease(
      `${name}-release`,
      {
        chart: CHARTS.qdrant,
        chartsDir: args.chartsDir,
        name: RELEASE,
        namespace: args.namespace,
        values: {
          fullnameOverride: SERVICE,
          replicaCount: cfg.replicas,
          // The unprivileged image needs no root-owned paths.
          image: { useUnprivilegedImage: true },
          // Qdrant reads its API key from the managed Secret when it starts, not through the
          // chart's apiKey: the chart copies that key at render time (a lookup) into a Secret of its
          // own, which is empty on a first install (the ExternalSecret has not synced yet) and never
          // sees a rotated key.
          env: [{ name: "QDRANT__SERVICE__API_KEY", valueFrom: { secretKeyRef: apiKeyRef } }],
          config: { cluster: { enabled: clustered, p2p: { port: P2P_PORT } } },
          persistence: {
            accessModes: ["ReadWriteOnce"],
            size: cfg.storageSize,
            storageClassName: cfg.storageClass ?? args.storageClass,
          },
          resources: cfg.resources,
          podSecurityContext: { ...RESTRICTED_POD, fsGroup: 3000, fsGroupChangePolicy: "OnRootMismatch" },
          containerSecurityContext: { ...RESTRICTED_CONTAINER, privileged: false, runAsUser: 1000, runAsGroup: 2000 },
          // Its chown init container runs as root, which the restricted level refuses; fsGroup does the job.
          updateVolumeFsOwnership: false,
          livenessProbe: { enabled: true },
          readinessProbe: { enabled: true },
          startupProbe: { enabled: true },
          podDisruptionBudget: { enabled: clustered, maxUnavailable: 1 },
          // /metrics wants the API key too; Prometheus reads it from the same Secret.
          metrics: {
            serviceMonitor: { enabled: true, authorization: { type: "Bearer", credentials: apiKeyRef } },
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
      service: "qdrant",
      pods: QDRANT_PODS,
      servicePorts: [QDRANT_HTTP_PORT, QDRANT_GRPC_PORT],
      metricsPorts: [QDRANT_HTTP_PORT],
      ...(clustered ? { peers: { name: "peers", ports: [P2P_PORT] } } : {}),
    });

    this.endpoint = { host: serviceHost(SERVICE, args.namespace), port: QDRANT_HTTP_PORT, grpcPort: QDRANT_GRPC_PORT };
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
