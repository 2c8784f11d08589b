/**
 * What the platform's credentials are, where each lives in Vault, and which Kubernetes Secret
 * (and key) every workload reads it from. Vault, External Secrets and dev's plain Secrets all
 * follow this one catalogue, so workloads are wired identically in every stack.
 */
import type { NamespaceRole } from "../config";

/** The KV version 2 mount of the original document (§6.1). */
export const KV_MOUNT = "secret";
/** The Kubernetes auth mount and the role External Secrets logs in with. */
export const KUBERNETES_AUTH_PATH = "kubernetes";
export const VAULT_ROLE = "doc-rag-role";
/** The SecretStore every namespace that receives secrets has. */
export const SECRET_STORE = "vault-backend";
export const REFRESH_INTERVAL = "10m";

/** Vault paths (under the KV mount) and the properties each holds. */
export const VAULT_SECRETS = {
  "doc-rag/database": ["url", "username", "password"],
  "doc-rag/redis": ["password"],
  "doc-rag/auth": ["jwt-secret"],
  "doc-rag/qdrant": ["api-key"],
  "doc-rag/grafana": ["admin-user", "admin-password"],
  /** The private registry's pull credential (doc-rag:registryAuth), not generated: the program writes what it is given. */
  "doc-rag/registry": ["dockerconfigjson"],
} as const;

export type VaultPath = keyof typeof VAULT_SECRETS;
export type Property<P extends VaultPath> = (typeof VAULT_SECRETS)[P][number];

export interface SecretKey<P extends VaultPath = VaultPath> {
  /** The key in the Kubernetes Secret. */
  key: string;
  path: P;
  property: Property<P>;
}

export interface DeliveredSecret {
  name: string;
  /** The namespace it lands in. */
  role: NamespaceRole;
  /** Kubernetes Secret type, when a consumer requires one. */
  type?: string;
  keys: SecretKey[];
}

const key = <P extends VaultPath>(k: string, path: P, property: Property<P>): SecretKey => ({
  key: k,
  path,
  property,
});

/** The Kubernetes Secrets the platform delivers, by consumer. */
export const DELIVERED_SECRETS = {
  /** The application's secret, keys exactly as the original document maps them (plus Qdrant's key). */
  application: {
    name: "doc-rag-secrets",
    role: "application",
    keys: [
      key("database-url", "doc-rag/database", "url"),
      key("redis-password", "doc-rag/redis", "password"),
      key("jwt-secret", "doc-rag/auth", "jwt-secret"),
      key("qdrant-api-key", "doc-rag/qdrant", "api-key"),
    ],
  },
  /** CloudNativePG's bootstrap secret for the application's database owner. */
  postgres: {
    name: "doc-rag-postgres-app",
    role: "data",
    type: "kubernetes.io/basic-auth",
    keys: [key("username", "doc-rag/database", "username"), key("password", "doc-rag/database", "password")],
  },
  /** The Valkey chart's users secret: the key is the ACL user's name. */
  valkey: { name: "doc-rag-valkey-users", role: "data", keys: [key("default", "doc-rag/redis", "password")] },
  /** The Qdrant chart reads its API key from here. */
  qdrant: { name: "doc-rag-qdrant-api-key", role: "data", keys: [key("api-key", "doc-rag/qdrant", "api-key")] },
  /** What every service pod pulls its image with (imagePullSecrets). */
  registry: {
    name: "doc-rag-registry",
    role: "application",
    type: "kubernetes.io/dockerconfigjson",
    keys: [key(".dockerconfigjson", "doc-rag/registry", "dockerconfigjson")],
  },
  /** Grafana's admin login (the chart's admin.existingSecret). */
  grafana: {
    name: "grafana-admin",
    role: "monitoring",
    keys: [
      key("admin-user", "doc-rag/grafana", "admin-user"),
      key("admin-password", "doc-rag/grafana", "admin-password"),
    ],
  },
} as const satisfies Record<string, DeliveredSecret>;

export type Consumer = keyof typeof DELIVERED_SECRETS;

/** The Vault policy document: read on exactly the catalogue's paths (KV v2 data paths). */
export function readPolicy(): string {
  return Object.keys(VAULT_SECRETS)
    .map((path) => `path "${KV_MOUNT}/data/${path}" {\n  capabilities = ["read"]\n}\n`)
    .join("\n");
}
