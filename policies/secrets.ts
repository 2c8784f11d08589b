/**
 * Kubernetes Secrets: where credentials live in Vault (staging, production), no Secret that
 * Pulumi manages may carry them — they reach pods through External Secrets instead.
 */
import { resourceRule } from "./lib/policy";

const CREDENTIAL_TYPES = new Set([
  "kubernetes.io/basic-auth",
  "kubernetes.io/ssh-auth",
  "kubernetes.io/dockerconfigjson",
  "kubernetes.io/dockercfg",
]);

interface SecretConfig {
  credentialKeyPattern: string;
}

export const noCredentialSecrets = resourceRule<SecretConfig>({
  name: "no-credential-secrets",
  description:
    "No Pulumi-managed Kubernetes Secret carries credentials (a credential Secret type, or a key that names a password, token or key); in stacks whose secrets live in Vault they come through External Secrets. Disabled where Kubernetes Secrets are the backend (dev).",
  category: "security",
  types: ["kubernetes:core/v1:Secret"],
  configSchema: {
    properties: {
      credentialKeyPattern: {
        type: "string",
        default:
          "(password|passwd|secret|token|api[-_.]?key|credential|private[-_.]?key|access[-_.]?key|\\.pem$|\\.key$)",
        description: "Case-insensitive regular expression: a data/stringData key matching it is a credential.",
      },
    },
  },
  check: (props, config) => {
    const secret = props as {
      type?: string;
      data?: Record<string, unknown>;
      stringData?: Record<string, unknown>;
      metadata?: { name?: string };
    };
    const name = secret.metadata?.name ?? "(unnamed)";
    const problems: string[] = [];
    if (secret.type && CREDENTIAL_TYPES.has(secret.type))
      problems.push(`Secret ${name} has credential type ${secret.type}`);
    const pattern = new RegExp(config.credentialKeyPattern, "i");
    const keys = [...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})].filter((key) =>
      pattern.test(key),
    );
    if (keys.length)
      problems.push(
        `Secret ${name} carries credential keys ${keys.join(", ")}; deliver them from Vault through an ExternalSecret`,
      );
    return problems;
  },
});
