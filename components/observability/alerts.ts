/**
 * The platform's alert rules, typed. The original document's groups keep their names,
 * thresholds, `for` durations, labels and annotations; where it used metrics no exporter
 * publishes (`cpu_usage_percentage`, ...), the expressions use what node-exporter and the
 * services really expose, with the same intent and threshold. The platform group adds what
 * an operator of this platform is paged for.
 */

export type Severity = "critical" | "warning";

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: Severity } & Record<string, string>;
  annotations: { summary: string; description: string };
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

/** A rule as Prometheus reads it: the annotations gain the runbook URL. */
export interface RenderedRule extends Omit<AlertRule, "annotations"> {
  annotations: AlertRule["annotations"] & { runbook_url: string };
}

export interface AlertContext {
  /** The data services' namespace, for their scrape targets. */
  dataNamespace: string;
}

/** The Doc-RAG pipeline's queue, as the services export it (and the autoscaler reads it). */
export const PROCESSING_QUEUE = "doc-rag-processing";

const api = { service: "api", team: "platform" };
const infrastructure = { component: "infrastructure" };
const business = { business_impact: "high" };
const platform = { component: "platform" };
/** Filesystems that are not disks (memory, overlays, images). */
const NOT_A_DISK = 'fstype!~"tmpfs|overlay|squashfs|ramfs"';

export function alertGroups(ctx: AlertContext): RuleGroup[] {
  return [
    {
      name: "doc-rag.api",
      rules: [
        {
          alert: "APIHighErrorRate",
          expr: 'sum by (namespace) (rate(http_requests_total{job="api", status=~"5.."}[5m])) > 0.05',
          for: "5m",
          labels: { severity: "critical", ...api },
          annotations: {
            summary: "High error rate detected in API",
            description: "API error rate is {{ $value | humanize }} errors per second",
          },
        },
        {
          alert: "APIHighLatency",
          expr: 'histogram_quantile(0.95, sum by (namespace, le) (rate(http_request_duration_seconds_bucket{job="api"}[5m]))) > 0.5',
          for: "10m",
          labels: { severity: "warning", ...api },
          annotations: {
            summary: "High latency detected in API",
            description: "95th percentile latency is {{ $value | humanize }}s",
          },
        },
        {
          alert: "APILowThroughput",
          expr: 'sum by (namespace) (rate(http_requests_total{job="api"}[5m])) < 10',
          for: "15m",
          labels: { severity: "warning", ...api },
          annotations: {
            summary: "Low API throughput detected",
            description: "API throughput is only {{ $value | humanize }} requests per second",
          },
        },
      ],
    },
    {
      name: "doc-rag.infrastructure",
      rules: [
        {
          alert: "HighCPUUsage",
          expr: '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))) > 80',
          for: "10m",
          labels: { severity: "warning", ...infrastructure },
          annotations: {
            summary: "High CPU usage on {{ $labels.instance }}",
            description: "CPU usage is {{ $value | humanize }}%",
          },
        },
        {
          alert: "HighMemoryUsage",
          expr: "100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) > 85",
          for: "5m",
          labels: { severity: "critical", ...infrastructure },
          annotations: {
            summary: "High memory usage on {{ $labels.instance }}",
            description: "Memory usage is {{ $value | humanize }}%",
          },
        },
        {
          alert: "DiskSpaceLow",
          expr: `100 * node_filesystem_avail_bytes{${NOT_A_DISK}} / node_filesystem_size_bytes{${NOT_A_DISK}} < 15`,
          for: "5m",
          labels: { severity: "critical", ...infrastructure },
          annotations: {
            summary: "Low disk space on {{ $labels.instance }}",
            description: "Only {{ $value | humanize }}% disk space remaining",
          },
        },
      ],
    },
    {
      name: "doc-rag.business",
      rules: [
        {
          alert: "DocumentProcessingBacklog",
          expr: `max by (namespace) (doc_rag_queue_length{queue="${PROCESSING_QUEUE}"}) > 1000`,
          for: "30m",
          labels: { severity: "warning", ...business },
          annotations: {
            summary: "Large document processing backlog",
            description: "Queue has {{ $value | humanize }} documents pending",
          },
        },
        {
          alert: "LowQueryAccuracy",
          expr: "avg by (namespace) (doc_rag_query_accuracy) < 0.8",
          for: "1h",
          labels: { severity: "critical", ...business },
          annotations: {
            summary: "Query accuracy has degraded",
            description: "Average accuracy is {{ $value | humanizePercentage }}",
          },
        },
      ],
    },
    {
      name: "doc-rag.platform",
      rules: [
        {
          alert: "DataServiceDown",
          expr: `up{namespace="${ctx.dataNamespace}"} == 0`,
          for: "2m",
          labels: { severity: "critical", ...platform },
          annotations: {
            summary: "Data service target {{ $labels.job }} is down",
            description: "{{ $labels.instance }} in {{ $labels.namespace }} has not answered a scrape for 2 minutes",
          },
        },
        {
          alert: "PostgresUnavailable",
          expr: "cnpg_collector_up == 0",
          for: "2m",
          labels: { severity: "critical", ...platform },
          annotations: {
            summary: "PostgreSQL instance {{ $labels.pod }} is not accepting connections",
            description: "CloudNativePG reports PostgreSQL down on {{ $labels.pod }} of cluster {{ $labels.cluster }}",
          },
        },
        {
          alert: "ExternalSecretSyncFailed",
          expr: 'externalsecret_status_condition{condition="Ready", status="False"} == 1',
          for: "15m",
          labels: { severity: "critical", ...platform },
          annotations: {
            summary: "ExternalSecret {{ $labels.namespace }}/{{ $labels.name }} is not syncing from Vault",
            description: "Workloads keep the last synced values; rotated or new secrets do not arrive",
          },
        },
        {
          alert: "CertificateExpiry",
          expr: "(certmanager_certificate_expiration_timestamp_seconds - time()) / 86400 < 14",
          for: "1h",
          labels: { severity: "warning", ...platform },
          annotations: {
            summary: "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires soon",
            description: "It expires in {{ $value | humanize }} days and has not been renewed",
          },
        },
        {
          alert: "CertificateExpiry",
          expr: "(certmanager_certificate_expiration_timestamp_seconds - time()) / 86400 < 3",
          for: "10m",
          labels: { severity: "critical", ...platform },
          annotations: {
            summary: "Certificate {{ $labels.namespace }}/{{ $labels.name }} is about to expire",
            description: "It expires in {{ $value | humanize }} days and has not been renewed",
          },
        },
      ],
    },
  ];
}

/** APIHighErrorRate → api-high-error-rate, as the original document's runbook URL spells it. */
export function runbookSlug(alert: string): string {
  return (alert.match(/[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+/g) ?? [alert]).join("-").toLowerCase();
}

/**
 * Text for a place Prometheus or Alertmanager expands as a Go template (annotations, labels,
 * receivers' fields), printed exactly as given: each `{{` becomes an action that prints `{{`, so a
 * config value can neither break the rule file nor run as a template.
 */
export function goTemplateText(text: string): string {
  return text.replaceAll("{{", '{{ "{{" }}');
}

/**
 * The groups as a Prometheus rule file (and PrometheusRule spec); each alert links its
 * runbook at `<base>/<kebab-case alert name>` (the base is config: escaped as template text).
 */
export function renderRules(
  groups: RuleGroup[],
  runbookBaseUrl: string,
): { groups: { name: string; rules: RenderedRule[] }[] } {
  const base = runbookBaseUrl.replace(/\/+$/, "");
  return {
    groups: groups.map((group) => ({
      name: group.name,
      rules: group.rules.map((rule) => ({
        ...rule,
        annotations: { ...rule.annotations, runbook_url: goTemplateText(`${base}/${runbookSlug(rule.alert)}`) },
      })),
    })),
  };
}
