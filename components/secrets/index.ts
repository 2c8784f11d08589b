import type { ChartSource } from "../charts";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { EgressConfig, Environment, NamespaceRole, VaultConfig } from "../config";
import { standardLabels } from "../labels";
import { DELIVERED_SECRETS, type Consumer } from "./catalog";
import { ESO_SERVICE_ACCOUNT, ExternalSecretsOperator, externalSecret, vaultSecretStore } from "./externalSecrets";
import { GeneratedCredentials, type DatabaseEndpoint } from "./generated";
import { VaultStore } from "./vault";
import { NO_REGISTRY_AUTH } from "../config/registry";

export interface PlatformSecretsArgs extends ChartSource {
  environment: Environment;
  namespaces: Record<NamespaceRole, pulumi.Input<string>>;
  /** The namespaces this stack owns: only their consumers get Secrets. Default: every role. */
  ownedRoles?: readonly NamespaceRole[];
  /** Where secrets live outside dev; undefined in dev. */
  vault?: VaultConfig;
  vaultToken?: string;
  egress: EgressConfig;
  database: DatabaseEndpoint;
  /** The registry's pull credential (doc-rag:registryAuth); none where unset. */
  registryAuth?: string;
  protect: boolean;
  highAvailability: boolean;
  /** What installs the Prometheus Operator CRDs (the operator's ServiceMonitor). */
  monitoringCrds: pulumi.Resource;
}

/**
 * The platform's credentials, generated and delivered as the Kubernetes Secrets of the
 * catalogue. Staging and production keep them in Vault and sync them with External Secrets;
 * dev has no Vault and writes the same Secrets directly, so workloads are wired alike.
 */
export class PlatformSecrets extends pulumi.ComponentResource {
  readonly backend: "vault" | "kubernetes";
  /** What creates each consumer's Secret: depend on it before a workload reads the Secret. */
  private readonly delivered: Partial<Record<Consumer, pulumi.Resource>>;

  constructor(name: string, args: PlatformSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:secrets:PlatformSecrets", name, {}, opts);
    const labels = standardLabels("secrets", args.environment);
    const credentials = new GeneratedCredentials(
      `${name}-generated`,
      { database: args.database, protect: args.protect, registryAuth: args.registryAuth ?? NO_REGISTRY_AUTH },
      { parent: this },
    );
    const owned = new Set(args.ownedRoles ?? Object.keys(args.namespaces));
    const consumers = (Object.keys(DELIVERED_SECRETS) as Consumer[]).filter((c) =>
      owned.has(DELIVERED_SECRETS[c].role),
    );
    const deliver = (make: (consumer: Consumer) => pulumi.Resource) =>
      Object.fromEntries(consumers.map((c) => [c, make(c)])) as Partial<Record<Consumer, pulumi.Resource>>;

    const vaultConfig = args.vault;
    if (!vaultConfig) {
      this.backend = "kubernetes";
      this.delivered = deliver((consumer) => {
        const secret = DELIVERED_SECRETS[consumer];
        return new k8s.core.v1.Secret(
          `${name}-${consumer}`,
          {
            metadata: { name: secret.name, namespace: args.namespaces[secret.role], labels },
            ...("type" in secret ? { type: secret.type } : {}),
            stringData: Object.fromEntries(secret.keys.map((k) => [k.key, credentials.valueOf(k)])),
          },
          { parent: this },
        );
      });
      this.registerOutputs({ backend: this.backend });
      return;
    }

    this.backend = "vault";
    const operator = new ExternalSecretsOperator(
      `${name}-operator`,
      {
        namespace: args.namespaces.security,
        chartsDir: args.chartsDir,
        monitoringNamespace: args.namespaces.monitoring,
        labels,
        egress: args.egress,
        highAvailability: args.highAvailability,
        monitoringCrds: args.monitoringCrds,
      },
      { parent: this },
    );
    const store = new VaultStore(
      `${name}-vault`,
      {
        vault: vaultConfig,
        ...(args.vaultToken ? { token: args.vaultToken } : {}),
        values: credentials.values,
        reader: { serviceAccount: ESO_SERVICE_ACCOUNT, namespace: args.namespaces.security },
        protect: args.protect,
      },
      { parent: this },
    );
    // One SecretStore per namespace that receives secrets.
    const roles = [...new Set(consumers.map((c) => DELIVERED_SECRETS[c].role))];
    const sync = (role: NamespaceRole) => ({
      namespace: args.namespaces[role],
      labels,
      vaultAddress: vaultConfig.address,
      ...(vaultConfig.namespace ? { vaultNamespace: vaultConfig.namespace } : {}),
      operator: operator.release,
      vaultReady: store.ready,
    });
    const stores = Object.fromEntries(
      roles.map((role) => [role, vaultSecretStore(`${name}-${role}-store`, sync(role), { parent: this })]),
    ) as Record<NamespaceRole, k8s.apiextensions.CustomResource>;
    this.delivered = deliver((consumer) => {
      const secret = DELIVERED_SECRETS[consumer];
      return externalSecret(
        `${name}-${consumer}`,
        secret,
        { ...sync(secret.role), store: stores[secret.role] },
        { parent: this },
      );
    });
    this.registerOutputs({ backend: this.backend });
  }

  /** What creates `consumer`'s Secret; a consumer outside the stack's namespaces has none. */
  secretOf(consumer: Consumer): pulumi.Resource {
    const resource = this.delivered[consumer];
    if (!resource) {
      throw new Error(
        `no Secret for ${consumer}: its namespace (${DELIVERED_SECRETS[consumer].role}) is not this stack's`,
      );
    }
    return resource;
  }
}
