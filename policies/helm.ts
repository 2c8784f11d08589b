/**
 * Third-party charts are `helm.v3.Release`s: the pack checks how they are fetched and
 * installed and the values the program gives them (it cannot see inside the chart).
 */
import { HELM_RELEASE } from "./lib/kubernetes";
import { resourceRule, valueAt, type JsonSchema } from "./lib/policy";

export interface ReleaseProps {
  chart?: string;
  version?: string;
  name?: string;
  namespace?: string;
  atomic?: boolean;
  cleanupOnFail?: boolean;
  repositoryOpts?: { repo?: string };
  values?: Record<string, unknown>;
}

const release = (props: Record<string, unknown>) => props as ReleaseProps;
const label = (r: ReleaseProps) => `release ${r.name ?? r.chart} (chart ${r.chart})`;

/** The chart's name whether given plainly, as repo/name, or as an oci:// reference. */
export function chartName(r: ReleaseProps): string {
  return (r.chart ?? "").split("/").pop() ?? "";
}

const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export const helmChartVersionPinned = resourceRule({
  name: "helm-chart-version-pinned",
  description:
    "Every Helm release pins an exact chart version (no range, no empty version, no latest), so a preview shows exactly what will be installed.",
  category: "security",
  types: [HELM_RELEASE],
  check: (props) => {
    const r = release(props);
    return EXACT_VERSION.test(r.version ?? "")
      ? []
      : [`${label(r)}: version ${JSON.stringify(r.version ?? "")} is not an exact chart version (e.g. 1.2.3)`];
  },
});

interface RepositoryConfig {
  localChartDirectories: string[];
}

export const helmRepositorySecure = resourceRule<RepositoryConfig>({
  name: "helm-repository-secure",
  description:
    "Charts come from an HTTPS repository or an OCI registry, never plain HTTP or an unnamed source; a local chart only from a directory the pack's config trusts (doc-rag:chartsDir).",
  category: "security",
  types: [HELM_RELEASE],
  configSchema: {
    properties: {
      localChartDirectories: {
        type: "array",
        items: { type: "string", pattern: "^/" },
        default: [],
        description: "Absolute local chart directories (doc-rag:chartsDir) whose charts may be installed.",
      },
    },
  },
  check: (props, config) => {
    const r = release(props);
    const chart = r.chart ?? "";
    if (chart.startsWith("oci://")) return [];
    if (chart.startsWith("/")) {
      const trusted = (config.localChartDirectories ?? []).some((dir) =>
        chart.startsWith(`${dir.replace(/\/+$/, "")}/`),
      );
      return trusted
        ? []
        : [
            `${label(r)}: a local chart outside the trusted localChartDirectories (${JSON.stringify(config.localChartDirectories ?? [])})`,
          ];
    }
    const repo = r.repositoryOpts?.repo ?? "";
    return repo.startsWith("https://")
      ? []
      : [`${label(r)}: repository ${JSON.stringify(repo)} is neither https:// nor an oci:// chart`];
  },
});

export const helmAtomic = resourceRule({
  name: "helm-atomic",
  description:
    "Helm releases roll back on a failed install or upgrade (atomic) or at least clean up what they created (cleanupOnFail).",
  category: "operations",
  types: [HELM_RELEASE],
  check: (props) => {
    const r = release(props);
    return r.atomic || r.cleanupOnFail ? [] : [`${label(r)}: set atomic: true (or cleanupOnFail: true)`];
  },
});

/** Keys that name a credential: a password, token or secret, or a key that is one (apiKey, accessKey). */
const PASSWORD_LIKE = /(password|passwd|secret|token|credentials?|(api|access|secret|private)[-_]?key)$/i;
/**
 * …unless they say where the credential is: a Secret, a key within it, a file (passwordKey,
 * existingSecret, configSecret — a Secret that holds a whole configuration file).
 */
const REFERENCE_LIKE =
  /(existing|secretname|secretref|keyref|configsecret$|(name|ref|file|path|enabled|annotations|labels|mount)$)|(?<!(api|access|secret|private)[-_]?)keys?$/i;

/** Every `a.b.c` path under values whose key names a credential and whose value is a literal. */
export function literalCredentials(values: unknown, path = ""): string[] {
  if (Array.isArray(values)) return values.flatMap((v, i) => literalCredentials(v, `${path}[${i}]`));
  if (!values || typeof values !== "object") return [];
  return Object.entries(values).flatMap(([key, value]) => {
    const here = path ? `${path}.${key}` : key;
    if (typeof value === "string" && value !== "" && PASSWORD_LIKE.test(key) && !REFERENCE_LIKE.test(key))
      return [here];
    return literalCredentials(value, here);
  });
}

export const helmNoLiteralSecrets = resourceRule({
  name: "helm-no-literal-secrets",
  description:
    "No Helm value that names a password, token or key holds a literal: charts reference an existing Secret instead (existingSecret, secretKeyRef), because values are stored in plain text in the release.",
  category: "security",
  types: [HELM_RELEASE],
  check: (props) => {
    const r = release(props);
    return literalCredentials(r.values).map(
      (path) => `${label(r)}: values.${path} is a literal credential; reference an existing Secret instead`,
    );
  },
});

export interface DataServiceValues {
  /** Value paths of which at least one must be set (truthy) for data to survive a restart. */
  persistence: string[];
  /** Value paths of which at least one must be set for Prometheus to scrape it. */
  metrics: string[];
}

/** The data-service charts the platform installs and where their values switch persistence and metrics on. */
export const DATA_SERVICE_CHARTS: Record<string, DataServiceValues> = {
  cluster: { persistence: ["cluster.storage.size"], metrics: ["cluster.monitoring.enabled"] },
  valkey: { persistence: ["dataStorage.enabled", "replica.persistence.size"], metrics: ["metrics.enabled"] },
  qdrant: { persistence: ["persistence.size"], metrics: ["metrics.serviceMonitor.enabled"] },
  vault: { persistence: ["server.dataStorage.enabled"], metrics: ["serverTelemetry.serviceMonitor.enabled"] },
};

export const DATA_SERVICES_SCHEMA: JsonSchema = {
  type: "object",
  description: "Chart name → value paths that enable persistence and metrics (any one path set is enough).",
  additionalProperties: {
    type: "object",
    properties: {
      persistence: { type: "array", items: { type: "string" }, minItems: 1 },
      metrics: { type: "array", items: { type: "string" }, minItems: 1 },
    },
    required: ["persistence", "metrics"],
  },
  default: DATA_SERVICE_CHARTS,
};

interface DataServicesConfig {
  dataServices: Record<string, DataServiceValues>;
}

export const helmDataServices = resourceRule<DataServicesConfig>({
  name: "helm-data-services",
  description:
    "Data-service releases (PostgreSQL, Valkey, Qdrant, Vault) set persistence and metrics explicitly in their values. Mandatory in production.",
  category: "operations",
  types: [HELM_RELEASE],
  configSchema: { properties: { dataServices: DATA_SERVICES_SCHEMA } },
  check: (props, config, args) => {
    const r = release(props);
    const service = config.dataServices[chartName(r)];
    if (!service) return args.notApplicable(`chart ${r.chart} is not a data service`);
    return (["persistence", "metrics"] as const)
      .filter((what) => !service[what].some((path) => valueAt(r.values, path)))
      .map((what) => `${label(r)}: ${what} is not enabled; set one of values.${service[what].join(", values.")}`);
  },
});

export const helmPolicies = [
  helmChartVersionPinned,
  helmRepositorySecure,
  helmAtomic,
  helmNoLiteralSecrets,
  helmDataServices,
];
