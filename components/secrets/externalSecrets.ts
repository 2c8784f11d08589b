import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, pinnedRelease, type ChartSource } from "../charts";
import type { EgressConfig } from "../config";
import { toEndpoint, trafficRules } from "../platform/networkPolicy";
import { scrapedByPrometheus } from "../platform/prometheusAccess";
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from "../platform/securityContext";
import {
  KUBERNETES_AUTH_PATH,
  KV_MOUNT,
  REFRESH_INTERVAL,
  SECRET_STORE,
  VAULT_ROLE,
  type DeliveredSecret,
} from "./catalog";

const RELEASE = "external-secrets";
/** The controller's service account: the identity Vault's role is bound to. */
export const ESO_SERVICE_ACCOUNT = "external-secrets";
const WEBHOOK_PORT = 10250;
const METRICS_PORT = 8080;
const API_VERSION = "external-secrets.io/v1";

export interface ExternalSecretsOperatorArgs extends ChartSource {
  namespace: pulumi.Input<string>;
  monitoringNamespace: pulumi.Input<string>;
  labels: Record<string, string>;
  egress: EgressConfig;
  /** Two replicas with leader election and disruption budgets. */
  highAvailability: boolean;
  /** What installs the ServiceMonitor CRD the chart's metrics need. */
  monitoringCrds: pulumi.Resource;
}

const resources = {
  requests: { cpu: "50m", memory: "128Mi" },
  limits: { cpu: "200m", memory: "256Mi" },
};

/**
 * External Secrets Operator (chart values read at 2.8.0). It only reads from namespaced
 * SecretStores: cluster-wide stores and pushing secrets back are switched off.
 */
export class ExternalSecretsOperator extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: ExternalSecretsOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:secrets:ExternalSecretsOperator", name, {}, opts);
    const ha = args.highAvailability;
    const replicas = ha ? 2 : 1;
    this.release = pinnedRelease(
      `${name}-release`,
      {
        chart: CHARTS.externalSecrets,
        chartsDir: args.chartsDir,
        name: RELEASE,
        namespace: args.namespace,
        values: {
          installCRDs: true,
          replicaCount: replicas,
          leaderElect: ha,
          serviceAccount: { create: true, name: ESO_SERVICE_ACCOUNT },
          // Vault's TokenReview of a login uses the caller's own token.
          systemAuthDelegator: true,
          processClusterStore: false,
          processClusterExternalSecret: false,
          processPushSecret: false,
          processClusterPushSecret: false,
          resources,
          podSecurityContext: { enabled: true, ...RESTRICTED_POD },
          securityContext: { enabled: true, ...RESTRICTED_CONTAINER },
          podDisruptionBudget: { enabled: ha, minAvailable: 1 },
          // Always rendered: the release waits for the monitoring CRDs (dependsOn below), so the
          // ServiceMonitor kind exists when it installs. The chart's capability probe
          // (failIfMissing) would fail a first deploy whose Helm has not yet seen the new kind,
          // and skipIfMissing would silently drop the metrics.
          serviceMonitor: { enabled: true, renderMode: "alwaysRender" },
          webhook: { replicaCount: replicas, port: WEBHOOK_PORT, resources, podDisruptionBudget: { enabled: ha } },
          certController: { resources },
        },
      },
      { parent: this, dependsOn: [args.monitoringCrds] },
    );

    const policy = trafficRules(this, name, args.namespace, args.labels);
    const allPods = { "app.kubernetes.io/instance": RELEASE };
    const controller = { ...allPods, "app.kubernetes.io/name": "external-secrets" };
    const api = args.egress.kubernetesApi;
    policy("to-kubernetes-api", {
      name: "external-secrets-to-kubernetes-api",
      podLabels: allPods,
      ...toEndpoint(api),
    });
    policy("to-vault", {
      name: "external-secrets-to-vault",
      podLabels: controller,
      ...toEndpoint(args.egress.vault),
    });
    policy("webhook-from-kubernetes-api", {
      name: "external-secrets-webhook-from-kubernetes-api",
      podLabels: { ...allPods, "app.kubernetes.io/name": "external-secrets-webhook" },
      direction: "ingress",
      peers: [{ cidrs: api.cidrs }],
      ports: [WEBHOOK_PORT],
    });
    // The chart's ServiceMonitors scrape the controller, the webhook and the cert controller.
    policy("metrics-from-prometheus", {
      name: "external-secrets-metrics-from-prometheus",
      ...scrapedByPrometheus(allPods, [METRICS_PORT], args.monitoringNamespace),
    });
    this.registerOutputs({});
  }
}

export interface VaultSyncArgs {
  namespace: pulumi.Input<string>;
  labels: Record<string, string>;
  vaultAddress: string;
  vaultNamespace?: string;
  /** The release whose CRDs the SecretStore and ExternalSecrets are. */
  operator: k8s.helm.v3.Release;
  /** What must exist in Vault before the first sync (secrets, role). */
  vaultReady: pulumi.Resource[];
}

/** The namespace's SecretStore `vault-backend`, as the original document declares it. */
export function vaultSecretStore(
  resourceName: string,
  args: VaultSyncArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    resourceName,
    {
      apiVersion: API_VERSION,
      kind: "SecretStore",
      metadata: { name: SECRET_STORE, namespace: args.namespace, labels: args.labels },
      spec: {
        provider: {
          vault: {
            server: args.vaultAddress,
            path: KV_MOUNT,
            version: "v2",
            ...(args.vaultNamespace ? { namespace: args.vaultNamespace } : {}),
            // No serviceAccountRef: the controller logs in with its own token, bound to the role.
            auth: { kubernetes: { mountPath: KUBERNETES_AUTH_PATH, role: VAULT_ROLE } },
          },
        },
      },
    },
    { ...opts, dependsOn: [args.operator, ...args.vaultReady] },
  );
}

/** An ExternalSecret that keeps one catalogue secret in sync from Vault. */
export function externalSecret(
  resourceName: string,
  secret: DeliveredSecret,
  args: VaultSyncArgs & { store: k8s.apiextensions.CustomResource },
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    resourceName,
    {
      apiVersion: API_VERSION,
      kind: "ExternalSecret",
      metadata: { name: secret.name, namespace: args.namespace, labels: args.labels },
      spec: {
        refreshInterval: REFRESH_INTERVAL,
        secretStoreRef: { name: SECRET_STORE, kind: "SecretStore" },
        target: {
          name: secret.name,
          creationPolicy: "Owner",
          ...(secret.type ? { template: { type: secret.type } } : {}),
        },
        data: secret.keys.map((k) => ({ secretKey: k.key, remoteRef: { key: k.path, property: k.property } })),
      },
    },
    { ...opts, dependsOn: [args.operator, args.store] },
  );
}
