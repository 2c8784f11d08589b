import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import type { VaultConfig } from "../config";
import { KUBERNETES_AUTH_PATH, KV_MOUNT, readPolicy, VAULT_ROLE, type VaultPath } from "./catalog";
import { keepData } from "../protection";

export interface VaultStoreArgs {
  vault: VaultConfig;
  /** From secret config; without it the provider reads VAULT_TOKEN. */
  token?: string;
  values: Record<VaultPath, pulumi.Output<Record<string, string>>>;
  /** The one identity allowed to log in with the role: External Secrets' service account. */
  reader: { serviceAccount: string; namespace: pulumi.Input<string> };
  /** protect + retainOnDelete on the mount and the secrets it holds. */
  protect: boolean;
}

/**
 * Vault as the original document lays it out (§6.1): a KV version 2 mount at `secret` holding
 * the platform's credentials, a policy that reads exactly those paths, and Kubernetes auth with
 * the role `doc-rag-role` bound to External Secrets' service account and namespace.
 */
export class VaultStore extends pulumi.ComponentResource {
  readonly provider: vault.Provider;
  readonly policyName: pulumi.Output<string>;
  readonly roleName: pulumi.Output<string>;
  /** Every resource External Secrets needs before it can read: the secrets and the role. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: VaultStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:secrets:VaultStore", name, {}, opts);
    const cfg = args.vault;
    this.provider = new vault.Provider(
      `${name}-provider`,
      {
        address: cfg.address,
        ...(cfg.namespace ? { namespace: cfg.namespace } : {}),
        ...(args.token ? { token: pulumi.secret(args.token) } : {}),
      },
      { parent: this },
    );
    const child = { parent: this, provider: this.provider };
    const keep = { ...child, ...keepData(args.protect) };

    const mount = new vault.Mount(
      `${name}-kv`,
      { path: KV_MOUNT, type: "kv", options: { version: "2" }, description: "Doc-RAG platform secrets (KV v2)" },
      keep,
    );
    const secrets = (Object.keys(args.values) as VaultPath[]).map(
      (path) =>
        new vault.kv.SecretV2(
          `${name}-${path.replace(/\//g, "-")}`,
          { mount: mount.path, name: path, dataJson: pulumi.secret(pulumi.jsonStringify(args.values[path])) },
          keep,
        ),
    );

    const policy = new vault.Policy(`${name}-read-policy`, { name: "doc-rag-read", policy: readPolicy() }, child);
    const auth = new vault.AuthBackend(
      `${name}-kubernetes-auth`,
      { type: "kubernetes", path: KUBERNETES_AUTH_PATH, description: "Kubernetes service accounts of the cluster" },
      child,
    );
    // No reviewer JWT: Vault reviews each login with the caller's own token, which External
    // Secrets' service account may do (system:auth-delegator, granted by its chart).
    const authConfig = new vault.kubernetes.AuthBackendConfig(
      `${name}-kubernetes-auth-config`,
      {
        backend: auth.path,
        kubernetesHost: cfg.kubernetesHost,
        ...(cfg.kubernetesCaCert ? { kubernetesCaCert: cfg.kubernetesCaCert } : {}),
      },
      child,
    );
    const role = new vault.kubernetes.AuthBackendRole(
      `${name}-role`,
      {
        backend: auth.path,
        roleName: VAULT_ROLE,
        boundServiceAccountNames: [args.reader.serviceAccount],
        boundServiceAccountNamespaces: [args.reader.namespace],
        tokenPolicies: [policy.name],
        tokenTtl: cfg.tokenTtlSeconds,
        tokenMaxTtl: cfg.tokenMaxTtlSeconds,
      },
      { ...child, dependsOn: [authConfig] },
    );
    this.policyName = policy.name;
    this.roleName = role.roleName;
    this.ready = [...secrets, role];
    this.registerOutputs({ policyName: this.policyName, roleName: this.roleName });
  }
}
