/**
 * The one place that reads Pulumi config. Every key of the stack is declared here with
 * its schema and defaults; `loadConfig` turns the raw stack config into one typed object
 * or throws a `ConfigError` that lists every problem at once, before any resource exists.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ENVIRONMENTS, MIN_KUBERNETES_MINOR, NAMESPACE_ROLES, PROJECT, type NamespaceRole } from "./names";
import { postgresSchema, qdrantSchema, valkeySchema } from "./data";
import { deliverySchema, placeholderRelease, releaseSchema, servicesSchema, withRelease } from "./delivery";
import { environmentSecretsSchema, githubSchema } from "./governance";
import { planFindings } from "../governance/plan";
import { clusterDnsSchema, namespacesSchema } from "./namespaces";
import { DOC_RAG_SERVICES, routedByGateway, serviceStrategy, type DocRagService } from "../services";
import { podsAtWorst, type Replacement } from "../footprint";
import { CHARTS, localChart, type Chart } from "../charts";
import { isQuantity, quantityValue } from "../quantity";
import { dnsLabel, exceeds } from "./primitives";
import { describeValue, formatIssue, keyPath, SECRET_VALUE } from "./problems";
import { observabilitySchema, receiverUrl } from "./observability";
import { dockerConfigJson } from "./registry";
import { REVIEW_ROLES, reviewNamespaceName, reviewSchema } from "./review";
import { egressSchema, vaultSchema } from "./secrets";
import { escProvides } from "./esc";
import { stackConfigDirOf } from "../projectRoot";
import { conceal, concealConfigSecrets, secretConfigTexts } from "./secretValues";

export * from "./names";
export { DEFAULT_QUOTA } from "./namespaces";
export type { PostgresConfig, QdrantConfig, ValkeyConfig } from "./data";
export type { EgressConfig, Endpoint, VaultConfig } from "./secrets";
export type { ObservabilityConfig } from "./observability";
export type { DeliveryConfig, ReleaseConfig, ServiceConfig, ServicesConfig } from "./delivery";
export { placeholderRelease } from "./delivery";
export { escEnvironmentName, escEnvironments, escProvides } from "./esc";
export type { GithubConfig } from "./governance";
export type { ReviewConfig } from "./review";
export { REVIEW_ROLES, reviewId } from "./review";
export { NODE_AGENTS_POD_SECURITY } from "./namespaces";
export { PROGRAM_VARIABLES } from "./governance";

/** How a key's raw config string is decoded; also its declared type in Pulumi.yaml. */
export type ConfigKeyKind = "string" | "boolean" | "object";

interface ConfigKey<S extends z.ZodType> {
  kind: ConfigKeyKind;
  schema: S;
  description: string;
  /** Must be set with `pulumi config set --secret`; its value never appears in an error. */
  secret: boolean;
  /**
   * For a secret key: what the offline tools use for it, since nobody there can decrypt the stack
   * file. It passes the key's own schema (a test checks), so an offline plan validates as a real one.
   */
  placeholder?: unknown;
}

function key<S extends z.ZodType>(
  kind: ConfigKeyKind,
  schema: S,
  description: string,
  options: { secret?: boolean; placeholder?: unknown } = {},
): ConfigKey<S> {
  return { kind, schema, description, secret: options.secret ?? false, placeholder: options.placeholder };
}

/** Names that can never be config keys: JavaScript's prototype machinery. */
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** The path of the first prototype key anywhere in a decoded value, if any. */
function prototypeKeyPath(value: unknown, path: string[] = []): string[] | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  for (const k of Object.keys(value)) {
    if (PROTOTYPE_KEYS.has(k)) return [...path, k];
    const found = prototypeKeyPath((value as Record<string, unknown>)[k], [...path, k]);
    if (found) return found;
  }
  return undefined;
}

/** Every top-level key of the `doc-rag:` config namespace. */
export const CONFIG_KEYS = {
  environment: key(
    "string",
    z.enum(ENVIRONMENTS, { error: `must be one of: ${ENVIRONMENTS.join(", ")}` }),
    "Which environment this stack is: dev, staging or production. Selects HA, protection and delivery strategy.",
  ),
  clusterName: key(
    "string",
    dnsLabel.optional(),
    "Name of the cluster, used in labels and metrics. Default: doc-rag-<environment>.",
  ),
  kubeContext: key(
    "string",
    z.string().min(1, "must not be empty").optional(),
    "kubeconfig context of the target cluster. Default: the kubeconfig's current context.",
  ),
  kubeconfig: key(
    "string",
    z.string().min(1, "must not be empty").optional(),
    "The kubeconfig's contents or path (set with --secret: it holds the cluster's credentials). Default: $KUBECONFIG or ~/.kube/config.",
    { secret: true, placeholder: "placeholder-kubeconfig" },
  ),
  kubernetesVersion: key(
    "string",
    z
      .string({ error: 'must be a quoted string such as "1.36" (unquoted, YAML reads 1.30 as 1.3)' })
      .regex(/^1\.(0|[1-9]\d*)$/, 'must be a Kubernetes minor version such as "1.36"')
      .refine(
        (v) => Number(v.split(".")[1]) >= MIN_KUBERNETES_MINOR,
        `must be 1.${MIN_KUBERNETES_MINOR} or newer (Pod Security Admission)`,
      )
      .default("1.36"),
    "Kubernetes minor version of the cluster; pins the Pod Security Admission version labels (v<version>).",
  ),
  storageClass: key(
    "string",
    dnsLabel.default("standard"),
    "StorageClass for persistent volumes (the original document uses fast-ssd).",
  ),
  chartsDir: key(
    "string",
    z
      .string({ error: "must be a string" })
      .min(1, "must not be empty")
      .transform((dir) => path.resolve(dir))
      .superRefine((dir, ctx) => {
        const missing = (Object.values(CHARTS) as Chart[]).filter((c) => localChart(dir, c) === undefined);
        if (missing.length > 0)
          ctx.addIssue({
            code: "custom",
            message: `must hold every pinned chart laid out <chart>/<version>/ (npm run charts:pull -- --charts ${dir} fills it); missing: ${missing.map((c) => `${c.chart} ${c.version}`).join(", ")}`,
          });
      })
      .optional(),
    "A local chart directory, laid out <chart>/<version>/ as `npm run charts:pull` fills it: every Helm release installs from it instead of its repository (air-gapped clusters, mirrors). Default: the charts' repositories.",
  ),
  protectStatefulResources: key(
    "boolean",
    z.boolean({ error: "must be true or false" }).optional(),
    "protect and retainOnDelete on resources that hold data. Default: true outside dev.",
  ),
  clusterDns: key(
    "object",
    clusterDnsSchema.prefault({}),
    "Where the cluster DNS pods run: {namespace, podLabels}; every namespace may reach them on port 53.",
  ),
  namespaces: key(
    "object",
    namespacesSchema.prefault({}),
    `The platform namespaces by role (${NAMESPACE_ROLES.join(", ")}): {name, stateful, podSecurity, quota, limits}.`,
  ),
  egress: key(
    "object",
    egressSchema.prefault({}),
    "Addresses outside the cluster that pods may reach, by purpose: {kubernetesApi, vault, objectStore, nodes, alerting, logs, acme, gatewayAddress (the Gateway's public address, for cert-manager's HTTP-01 self-check), artifacts (Falco's rules and plugins), rolloutsPlugin (the Argo Rollouts controller's traffic-router plugin download)}: {cidrs, ports}. Default: any address, on the purpose's ports only.",
  ),
  vault: key(
    "object",
    vaultSchema.optional(),
    "Vault for staging and production (dev has none): {address, namespace, kubernetesHost, kubernetesCaCert, tokenTtlSeconds, tokenMaxTtlSeconds}.",
  ),
  vaultToken: key(
    "string",
    z.string().min(1, "must not be empty").optional(),
    "Vault token for `pulumi up` (set with --secret). Default: the VAULT_TOKEN environment variable.",
    { secret: true, placeholder: "placeholder-vault-token" },
  ),
  postgres: key(
    "object",
    postgresSchema.prefault({}),
    "PostgreSQL (CloudNativePG): {postgresVersion, instances, storageSize, storageClass, database, owner, resources, backups}.",
  ),
  valkey: key(
    "object",
    valkeySchema.prefault({}),
    "The Valkey cache: {replicas (beside the primary), storageSize, storageClass, resources}.",
  ),
  qdrant: key("object", qdrantSchema.prefault({}), "Qdrant: {replicas, storageSize, storageClass, resources}."),
  observability: key(
    "object",
    observabilitySchema.prefault({}),
    "Metrics, alerting, tracing and logs: {runbookBaseUrl, chatChannel, prometheus: {replicas, retention, storageSize, resources}, alertmanager: {replicas, storageSize}, followFalcoArtifacts (falcoctl follows rules and plugins upstream; default only in dev), tracing: {collectorReplicas, retention, storageSize}, logs: {host, port, tls, credentialsSecret}}.",
  ),
  services: key(
    "object",
    servicesSchema.prefault({}),
    "The six Doc-RAG services by name: {image: {repository, tag, digest}, replicas, maxReplicas, resources, gpu}.",
  ),
  release: key(
    "object",
    releaseSchema.optional(),
    "The release this stack runs: {version (vX.Y.Z), images: service → sha256 digest}. Written by the application's release workflow into the stack's ESC environment (<project>/<stack>-release), never by hand; wins over services.<name>.image.",
  ),
  delivery: key(
    "object",
    deliverySchema.prefault({}),
    "How the services are delivered: {apiHost, acmeEmail, autoPromote, pauseScale, resourceMetrics (serve metrics.k8s.io from Prometheus through prometheus-adapter; false where the cluster runs metrics-server)}.",
  ),
  review: key(
    "object",
    reviewSchema.optional(),
    "Makes this stack the review-stack template (dev-shaped, on a cluster another stack owns): {ttlHours, postgresOperatorNamespace}. Its copies create only the application and data namespaces, suffixed with the pull request (pr-<number>); the other namespace roles name the owner's.",
  ),
  github: key(
    "object",
    githubSchema.optional(),
    "GitHub governance (staging and production; refused in dev): {owner, repository, plan (free, team or enterprise: what GitHub can enforce; refused where it cannot protect the repository), visibility, advancedSecurity, manageRepository, releaseManagers, reviewers, waitTimerMinutes, variables, commitWorkflows (proposed in a pull request), codeOwners}.",
  ),
  githubToken: key(
    "string",
    z.string().min(1, "must not be empty").optional(),
    "GitHub token for `pulumi up` (set with --secret). Default: the GITHUB_TOKEN environment variable.",
    { secret: true, placeholder: "placeholder-github-token" },
  ),
  githubEnvironmentSecrets: key(
    "object",
    environmentSecretsSchema.optional(),
    "Secrets of this stack's GitHub environment, name → value (set with --secret, whole or per name with --path). The release jobs need none: they get their Pulumi Cloud token by OIDC.",
    { secret: true, placeholder: {} },
  ),
  alertPagingUrl: key(
    "string",
    receiverUrl.optional(),
    "Webhook URL that critical alerts page (set with --secret). Without it, critical alerts reach nobody.",
    { secret: true, placeholder: "https://placeholder.invalid/alert-paging" },
  ),
  alertChatUrl: key(
    "string",
    receiverUrl.optional(),
    "Slack-compatible webhook URL for warnings (set with --secret). Without it, warnings reach nobody.",
    { secret: true, placeholder: "https://placeholder.invalid/alert-chat" },
  ),
  registryAuth: key(
    "string",
    dockerConfigJson.optional(),
    'The Docker config JSON that pulls the services\' images from the private registry ({"auths": {"ghcr.io": {"auth": base64 of user:token}}}, a read-only token such as GitHub\'s read:packages; set with --secret, or import the ESC environment doc-rag/<stack>-registry). Staging and production deliver it from Vault (secret/doc-rag/registry) through External Secrets as the Secret doc-rag-registry every service pod pulls with; required there. Dev and review stacks default to no credentials ({"auths": {}}: kind-loaded images, or the nodes\' own).',
    {
      secret: true,
      placeholder: '{"auths":{"registry.placeholder.invalid":{"auth":"cGxhY2Vob2xkZXI6cGxhY2Vob2xkZXI="}}}',
    },
  ),
};

type Keys = typeof CONFIG_KEYS;

type Problem = (path: PropertyKey[], input: unknown, message: string) => void;
type ParsedKeys = Pick<
  { [K in keyof Keys]: z.output<Keys[K]["schema"]> },
  "environment" | "namespaces" | "services" | "postgres" | "valkey" | "qdrant"
> & { review?: unknown };

/**
 * What the API server and the quota would refuse at deploy time, refused here: a container limit
 * above its namespace's LimitRange max, and services whose autoscalers at their maximum (plus one
 * surge pod each) need more than the application namespace's quota holds.
 */
function fitsNamespaces(
  cfg: ParsedKeys,
  problem: Problem,
  quotaSet: (role: NamespaceRole, entry: string) => boolean,
): void {
  const within = (role: NamespaceRole, path: PropertyKey[], limits: { cpu: string; memory: string }) => {
    const max = cfg.namespaces[role].limits.max;
    for (const r of ["cpu", "memory"] as const)
      if (exceeds(limits[r], max?.[r]))
        problem(
          [...path, "limits", r],
          limits[r],
          `must not exceed the ${role} namespace's LimitRange max.${r} (${max?.[r]}): the API server would refuse the pod`,
        );
  };
  for (const svc of DOC_RAG_SERVICES)
    within("application", ["services", svc, "resources"], cfg.services[svc].resources.limits);
  for (const data of ["postgres", "valkey", "qdrant"] as const)
    within("data", [data, "resources"], cfg[data].resources.limits);

  // What the program itself runs in a namespace, pods × their resources: a quota below it can never hold them.
  const application = DOC_RAG_SERVICES.map((svc) => ({
    pods: podsAtWorst(cfg.services[svc].maxReplicas, serviceReplacement(cfg, svc)),
    resources: cfg.services[svc].resources,
  }));
  const data = [
    { pods: cfg.postgres.instances, resources: cfg.postgres.resources, storage: cfg.postgres.storageSize },
    { pods: 1 + cfg.valkey.replicas, resources: cfg.valkey.resources, storage: cfg.valkey.storageSize },
    { pods: cfg.qdrant.replicas, resources: cfg.qdrant.resources, storage: cfg.qdrant.storageSize },
  ];
  holds(
    "application",
    application,
    "what the services run at a release's worst moment at full scale-out (each autoscaler's maximum plus its 25% surge, twice it for a blue-green or a routed canary)",
    "raise it or lower services.<name>.maxReplicas",
  );
  holds(
    "data",
    data,
    "what the data services run (postgres.instances, 1 + valkey.replicas, qdrant.replicas, each with its resources and volume)",
    "raise it or lower those replicas and resources",
  );

  function holds(
    role: NamespaceRole,
    workloads: {
      pods: number;
      resources: Record<"requests" | "limits", { cpu: string; memory: string }>;
      storage?: string;
    }[],
    what: string,
    fix: string,
  ): void {
    const quota = cfg.namespaces[role].quota as Record<string, string | undefined>;
    const needs: [string, number, "cpu" | "memory"][] = [
      ...(["requests", "limits"] as const).flatMap((kind) =>
        (["cpu", "memory"] as const).map(
          (r) =>
            [
              `${kind}.${r}`,
              workloads.reduce((sum, w) => sum + w.pods * quantityValue(w.resources[kind][r]), 0),
              r,
            ] as [string, number, "cpu" | "memory"],
        ),
      ),
      [
        "requests.storage",
        workloads.reduce((sum, w) => sum + (w.storage ? w.pods * quantityValue(w.storage) : 0), 0),
        "memory",
      ],
    ];
    for (const [entry, need, unit] of needs) {
      const hard = quota[entry];
      // Only a quota the stack sets: the built-in default is a floor for namespaces, not a size.
      if (!hard || !isQuantity(hard) || !quotaSet(role, entry) || need <= quantityValue(hard)) continue;
      problem(
        ["namespaces", role, "quota", entry],
        hard,
        `must hold ${what}: ${formatQuantity(need, unit)} of ${entry}; ${fix}`,
      );
    }
  }
}

/** How a service's pods are replaced on a release, from its strategy: the api's canary is routed, but in review stacks. */
function serviceReplacement(cfg: ParsedKeys, svc: DocRagService): Replacement {
  const strategy = serviceStrategy(cfg.environment, svc);
  if (strategy === "blueGreen") return "blueGreen";
  return strategy === "canary" && routedByGateway(svc, !!cfg.review) ? "routedCanary" : "surge";
}

/** A total in base units, as a reader would write it: CPUs, or GiB of memory. */
function formatQuantity(value: number, resource: "cpu" | "memory"): string {
  return resource === "cpu"
    ? `${Math.round(value * 1000) / 1000} CPU`
    : `${Math.round((value / 2 ** 30) * 100) / 100}Gi`;
}

const stackSchema = z
  .strictObject(
    Object.fromEntries(Object.entries(CONFIG_KEYS).map(([name, k]) => [name, k.schema])) as {
      [K in keyof Keys]: Keys[K]["schema"];
    },
  )
  .superRefine((cfg, ctx) => {
    const problem = (path: PropertyKey[], input: unknown, message: string) =>
      ctx.addIssue({ code: "custom", path, input, message });
    // Production's alerts must reach someone: both receivers, from the on-call team's ESC environment.
    const receivers = (["alertPagingUrl", "alertChatUrl"] as const).filter((k) => !cfg[k]);
    if (cfg.environment === "production" && receivers.length > 0) {
      problem(
        [receivers[0] ?? "alertPagingUrl"],
        undefined,
        `in production${receivers.length === 2 ? `, and so is ${PROJECT}:alertChatUrl` : ""} (critical alerts page, warnings go to chat; without them alerts reach nobody): import the ESC environment ${PROJECT}/<stack>-alerting that holds them, or pulumi config set --secret ${receivers.map((k) => `${PROJECT}:${k}`).join(" and ")}`,
      );
    }
    if (cfg.environment !== "dev" && !cfg.kubeContext && !cfg.kubeconfig) {
      problem(
        ["kubeContext"],
        undefined,
        `must be set (or kubeconfig) in ${cfg.environment}, so the stack never deploys to whatever context is current`,
      );
    }
    if (cfg.environment === "dev") {
      if (cfg.vault)
        problem(["vault"], cfg.vault, "must not be set in dev: dev keeps its secrets in Kubernetes Secrets");
    } else if (!cfg.vault) {
      problem(["vault"], undefined, `must be set in ${cfg.environment}: its secrets live in Vault`);
    }
    if (cfg.review) {
      if (cfg.environment !== "dev") {
        problem(
          ["review"],
          cfg.review,
          `must not be set in ${cfg.environment}: review stacks are dev-shaped copies on a cluster that staging or production owns`,
        );
      }
      if (!cfg.kubeContext && !cfg.kubeconfig) {
        problem(
          ["kubeContext"],
          undefined,
          "must be set (or kubeconfig) in a review stack: it names the shared cluster",
        );
      }
      if (cfg.protectStatefulResources) {
        problem(
          ["protectStatefulResources"],
          true,
          "must be false in a review stack: its TTL and the pull request's close destroy it",
        );
      }
    }
    if (cfg.environment !== "dev" && !cfg.registryAuth) {
      problem(
        ["registryAuth"],
        undefined,
        `must be set in ${cfg.environment}: its images come from the private registry, and nothing else gives its pods a pull credential. Import the ESC environment ${PROJECT}/<stack>-registry that holds it, or pulumi config set --secret ${PROJECT}:registryAuth "$(cat config.json)"`,
      );
    }
    if (cfg.environment !== "dev" && !cfg.observability.logs) {
      problem(
        ["observability", "logs"],
        undefined,
        `must be set in ${cfg.environment} (the OpenSearch that keeps its logs): only dev may ship none`,
      );
    }
    if (cfg.environment !== "dev" && !cfg.release) {
      const undigested = DOC_RAG_SERVICES.filter((s) => !cfg.services[s].image.digest);
      if (undigested.length > 0) {
        problem(
          ["release"],
          undefined,
          `must be set in ${cfg.environment}, or services.<name>.image.digest for ${undigested.join(", ")}: images run by digest and nothing resolves a tag at preview. The release workflow writes doc-rag:release into the stack's ESC environment; by hand: pulumi config set --path '${PROJECT}:services.${undigested[0]}.image.digest' sha256:<64 hex digits>`,
        );
      }
    }
    if (cfg.environment === "dev" && cfg.github) {
      problem(["github"], cfg.github, "must not be set in dev: dev has no GitHub governance");
    } else if (cfg.github) {
      for (const refusal of planFindings(cfg.environment, cfg.github).refusals)
        problem(["github", ...refusal.path], refusal.value, refusal.message);
    }
    if (cfg.environment === "production") {
      if (!cfg.postgres.backups.enabled) {
        problem(["postgres", "backups", "enabled"], false, "must be true in production");
      }
      if (cfg.postgres.instances < 2) {
        problem(
          ["postgres", "instances"],
          cfg.postgres.instances,
          "must be at least 2 in production (a standby to fail over to)",
        );
      }
      if (cfg.valkey.replicas < 1) {
        problem(["valkey", "replicas"], cfg.valkey.replicas, "must be at least 1 in production (replication)");
      }
    }
  })
  .transform((cfg) => ({
    ...cfg,
    clusterName: cfg.clusterName ?? `${PROJECT}-${cfg.environment}`,
    protectStatefulResources: cfg.protectStatefulResources ?? cfg.environment !== "dev",
    services: withRelease(cfg.services, cfg.release),
    // Repository-wide settings belong to production unless a stack says otherwise.
    github: cfg.github
      ? { ...cfg.github, manageRepository: cfg.github.manageRepository ?? cfg.environment === "production" }
      : undefined,
  }));

export type StackConfig = z.output<typeof stackSchema>;
export type NamespaceConfig = StackConfig["namespaces"][NamespaceRole];

/** A stack configuration that cannot be used; `problems` has one line per bad key. */
export class ConfigError extends pulumi.RunError {
  constructor(readonly problems: string[]) {
    super(
      `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }

  /** True for a ConfigError from any copy of this module (tests load the program afresh). */
  static is(err: unknown): err is ConfigError {
    return err instanceof Error && err.name === "ConfigError" && Array.isArray((err as ConfigError).problems);
  }
}

/** The declared key of that name, never a property every object inherits (`constructor`, `toString`). */
function declaredKey(name: string): ConfigKey<z.ZodType> | undefined {
  return Object.hasOwn(CONFIG_KEYS, name) ? (CONFIG_KEYS[name as keyof Keys] as ConfigKey<z.ZodType>) : undefined;
}

/** Which top-level keys are secret, so their values never appear in an error. */
const isSecretKey = (name: string) => declaredKey(name)?.secret ?? false;

/**
 * What offline tools put in place of a secret they cannot decrypt (`doc-rag:key`, or a path below it
 * for a value set with `--secret --path`): the key's declared placeholder, which passes its schema;
 * for a leaf, a non-empty string.
 */
export function offlinePlaceholder(fullKey: string, path: readonly string[] = []): unknown {
  const [namespace, name = ""] = fullKey.split(":", 2);
  const declared = namespace === PROJECT ? declaredKey(name) : undefined;
  if (path.length === 0 && declared?.placeholder !== undefined) return declared.placeholder;
  return `placeholder-secret-for-${[fullKey, ...path].join(".")}`;
}

/**
 * What an imported ESC environment would provide for `stack`, as offline tools stand in for it: each
 * full key, whether Pulumi holds it secret, and its placeholder (the placeholder release; a secret
 * key's declared placeholder).
 */
export function escPlaceholders(
  environment: string,
  stack: string,
): { key: string; secret: boolean; value: unknown }[] {
  return escProvides(environment, stack).map(({ key, secret }) => {
    const full = `${PROJECT}:${key}`;
    return {
      key: full,
      secret,
      value: secret ? offlinePlaceholder(full) : key === "release" ? placeholderRelease() : undefined,
    };
  });
}

/** Shapes a secret may have where its key is not declared secret (an e-mail, a URL, a host name). */
const PLACEHOLDER_SHAPES = ["placeholder@example.invalid", "https://placeholder.invalid/secret", "placeholder.invalid"];

/**
 * A stack file's value for `fullKey` with each `secure:` part replaced by a placeholder that passes
 * the key's schema where one of the usual shapes does, so a stack that keeps any value secret
 * (Pulumi allows it for every key) plans offline as it would for real.
 */
export function offlineValue(fullKey: string, value: unknown, isSecure: (v: unknown) => boolean): unknown {
  const slots: string[][] = [];
  const fill = (v: unknown, at: string[], choice: (at: string[]) => unknown): unknown => {
    if (isSecure(v)) return choice(at);
    if (Array.isArray(v)) return v.map((x, i) => fill(x, [...at, String(i)], choice));
    if (typeof v === "object" && v !== null)
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, [...at, k], choice)]));
    return v;
  };
  fill(value, [], (at) => slots.push(at));
  const [namespace, name = ""] = fullKey.split(":", 2);
  const declared = namespace === PROJECT ? declaredKey(name) : undefined;
  const chosen = new Map<string, unknown>(slots.map((at) => [at.join("."), offlinePlaceholder(fullKey, at)]));
  const build = () => fill(value, [], (at) => chosen.get(at.join(".")));
  if (!declared || (slots.length === 1 && slots[0]?.length === 0 && declared.placeholder !== undefined)) return build();
  for (const at of slots) {
    const fails = () =>
      declared.schema
        .safeParse(build())
        .error?.issues.some((issue) => at.every((part, i) => String(issue.path[i]) === part));
    if (!fails()) continue;
    const fitting = PLACEHOLDER_SHAPES.find((shape) => {
      chosen.set(at.join("."), shape);
      return !fails();
    });
    if (!fitting) chosen.set(at.join("."), offlinePlaceholder(fullKey, at));
  }
  return build();
}

function decode(kind: ConfigKeyKind, raw: string): unknown {
  if (kind === "string") return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw; // the schema reports it with the value as written
  }
}

/** A review stack's own namespaces carry its pull request in their names, so copies never share one. */
function forReviewStack(config: StackConfig, stack: string): { config: StackConfig; problems: string[] } {
  if (!config.review) return { config, problems: [] };
  const namespaces = { ...config.namespaces };
  const problems: string[] = [];
  for (const role of REVIEW_ROLES) {
    const name = reviewNamespaceName(namespaces[role].name, stack);
    if (name.length > 63) {
      problems.push(
        `${PROJECT}:namespaces.${role}.name: is too long for review stacks: with the suffix it becomes ${JSON.stringify(name)} (${name.length} characters; a namespace name has at most 63) (got ${describeValue(namespaces[role].name)})`,
      );
    }
    namespaces[role] = { ...namespaces[role], name };
  }
  return { config: { ...config, namespaces }, problems };
}

/**
 * Validates raw stack config (`doc-rag:key` → string, as Pulumi hands it to the program);
 * `secretKeys` are the full keys that were set with --secret; `stack` names a review stack's
 * namespaces. Pure: tests and tools may call it.
 */
export function parseConfig(
  raw: Record<string, string>,
  secretKeys: ReadonlySet<string> = new Set(),
  stack = "",
  plainSecretLeaves: readonly string[] = [],
): StackConfig {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  const allowed = Object.keys(CONFIG_KEYS);
  for (const [fullKey, value] of Object.entries(raw)) {
    const [namespace, name] = fullKey.split(":", 2) as [string, string | undefined];
    if (namespace !== PROJECT || name === undefined) continue; // other packages' keys
    const declared = declaredKey(name);
    const shown = secretKeys.has(fullKey) ? SECRET_VALUE : describeValue(value);
    if (PROTOTYPE_KEYS.has(name)) {
      problems.push(`${fullKey}: is not allowed: ${JSON.stringify(name)} can never be a config key (got ${shown})`);
      continue;
    }
    if (!declared) {
      problems.push(`${fullKey}: unknown key (got ${shown}); allowed keys: ${allowed.join(", ")}`);
      continue;
    }
    if (declared.secret && !secretKeys.has(fullKey)) {
      // Say so without echoing it: the value is already exposed in the stack file.
      problems.push(
        `${fullKey}: must be set as a secret (pulumi config set --secret ${fullKey}); it is stored in plain text`,
      );
      continue;
    }
    const decoded = decode(declared.kind, value);
    const proto = prototypeKeyPath(decoded);
    if (proto) {
      problems.push(
        `${keyPath([name, ...proto], PROJECT)}: is not allowed: ${JSON.stringify(proto.at(-1))} can never be a config key`,
      );
      continue;
    }
    values[name] = decoded;
  }
  // A secret key set per leaf (`--secret --path`) with some leaves in plain text: Pulumi marks the
  // whole key secret, but those leaves sit readable in the stack file.
  for (const leaf of plainSecretLeaves) {
    problems.push(
      `${leaf}: must be set as a secret (pulumi config set --secret --path '${leaf}'); it is stored in plain text`,
    );
  }
  // A value set as a secret is never echoed, whether or not its key is declared secret.
  const hidden = (name: string) => isSecretKey(name) || secretKeys.has(`${PROJECT}:${name}`);
  const result = stackSchema.safeParse(values, { reportInput: true });
  if (!result.success) {
    problems.push(...result.error.issues.map((issue) => formatIssue(issue, PROJECT, hidden)));
  } else {
    const setNamespaces = values["namespaces"] as Record<string, { quota?: Record<string, unknown> } | undefined>;
    fitsNamespaces(
      result.data,
      (path, input, message) =>
        problems.push(
          `${keyPath(path, PROJECT)}: ${message} (got ${hidden(String(path[0])) ? SECRET_VALUE : describeValue(input)})`,
        ),
      (role, entry) => {
        const quota = setNamespaces?.[role]?.quota;
        return quota !== undefined && Object.hasOwn(quota, entry);
      },
    );
  }
  if (problems.length > 0 || !result.success) {
    throw new ConfigError(problems);
  }
  const review = forReviewStack(result.data, stack);
  if (review.problems.length > 0) {
    throw new ConfigError(review.problems);
  }
  return review.config;
}

/** The stack's raw config, and which of its keys Pulumi holds as secret (set with --secret, or `secure:` in the file). */
/** The config the language host hands the program, and which of its keys are secret. */
export function runtimeConfig(): { raw: Record<string, string>; secretKeys: Set<string> } {
  const raw = pulumi.runtime.allConfig();
  // isConfigSecret is exported by the SDK's runtime but marked internal in its typings.
  const { isConfigSecret } = pulumi.runtime as unknown as { isConfigSecret(key: string): boolean };
  return { raw, secretKeys: new Set(Object.keys(raw).filter((k) => isConfigSecret(k))) };
}

/**
 * Pulumi's rule, kept for every key: a value set as a secret stays secret in every resource it
 * reaches, also under a key the schema does not declare secret (a stack transformation). Returns
 * the same rule for the stack's outputs, which no transformation sees.
 */
export function keepConfigSecretsSecret(): <T>(output: T) => T | pulumi.Output<pulumi.Unwrap<T>> {
  const { raw, secretKeys } = runtimeConfig();
  const texts = secretConfigTexts(raw, secretKeys);
  const transformation = concealConfigSecrets(texts);
  if (transformation) pulumi.runtime.registerStackTransformation(transformation);
  return <T>(output: T) => (texts.length ? (conceal(output, texts) as pulumi.Output<pulumi.Unwrap<T>>) : output);
}

/** Reads and validates this stack's config; throws before anything is registered. */
export function loadConfig(): StackConfig {
  const { raw, secretKeys } = runtimeConfig();
  const stack = pulumi.getStack();
  // Pulumi says only whether a key holds a secret; the stack file says which of its leaves are.
  const projectDir = process.cwd();
  const projectFile = path.join(projectDir, "Pulumi.yaml");
  const project = fs.existsSync(projectFile)
    ? ((parseYaml(fs.readFileSync(projectFile, "utf8")) as Record<string, unknown> | null) ?? {})
    : {};
  const stackFile = path.join(stackConfigDirOf(projectDir, project), `Pulumi.${stack}.yaml`);
  const fileConfig = fs.existsSync(stackFile)
    ? ((parseYaml(fs.readFileSync(stackFile, "utf8")) as { config?: Record<string, unknown> } | null)?.config ?? {})
    : {};
  return parseConfig(raw, secretKeys, stack, plainSecretLeaves(fileConfig));
}

/** A stack file's encrypted value: `{ secure: <ciphertext> }`, as `pulumi config set --secret` writes it. */
export function isSecureValue(value: unknown): value is { secure: string } {
  return typeof value === "object" && value !== null && Object.keys(value).join() === "secure";
}

/**
 * The leaves of secret keys that a stack file's `config` holds in plain text beside `secure:` ones
 * (`pulumi config set --path` without `--secret` on a key declared secret), as `doc-rag:key.path`.
 */
export function plainSecretLeaves(fileConfig: Record<string, unknown>): string[] {
  /** [path, secure] for every leaf below `value`. */
  const leaves = (value: unknown, path: string[]): [string[], boolean][] =>
    isSecureValue(value)
      ? [[path, true]]
      : typeof value === "object" && value !== null
        ? Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]))
        : [[path, false]];
  return Object.entries(fileConfig).flatMap(([rawKey, value]) => {
    const name = rawKey.startsWith(`${PROJECT}:`) ? rawKey.slice(PROJECT.length + 1) : rawKey;
    if (!declaredKey(name)?.secret) return [];
    const all = leaves(value, [name]);
    // Only a key that mixes: one with no secure leaf is plain as a whole, which the key check reports.
    if (!all.some(([, secure]) => secure)) return [];
    return all.filter(([, secure]) => !secure).map(([path]) => keyPath(path, PROJECT));
  });
}
