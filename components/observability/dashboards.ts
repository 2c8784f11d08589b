/**
 * Grafana dashboards as JSON models, provisioned by the Grafana sidecar from ConfigMaps
 * labelled `grafana_dashboard: "1"`.
 */
import { PROCESSING_QUEUE } from "./alerts";

export const DASHBOARD_LABEL = { grafana_dashboard: "1" };

interface Panel {
  title: string;
  unit: string;
  targets: { expr: string; legendFormat: string }[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

const panel = (title: string, unit: string, ...targets: [string, string][]): Panel => ({
  title,
  unit,
  targets: targets.map(([expr, legendFormat]) => ({ expr, legendFormat })),
});

export function dashboards(dataNamespace: string): Dashboard[] {
  const api = 'job="api"';
  return [
    {
      uid: "doc-rag-api",
      title: "Doc-RAG API",
      panels: [
        panel("Requests per second", "reqps", [
          `sum by (status) (rate(http_requests_total{${api}}[5m]))`,
          "{{status}}",
        ]),
        panel("Errors per second (5xx)", "reqps", [`sum(rate(http_requests_total{${api}, status=~"5.."}[5m]))`, "5xx"]),
        panel(
          "Latency",
          "s",
          ...["0.5", "0.95", "0.99"].map((q): [string, string] => [
            `histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket{${api}}[5m])))`,
            `p${Number(q) * 100}`,
          ]),
        ),
      ],
    },
    {
      uid: "doc-rag-pipeline",
      title: "Doc-RAG document pipeline",
      panels: [
        panel("Documents processed per second", "ops", [
          "sum(rate(doc_rag_documents_processed_total[5m]))",
          "processed",
        ]),
        panel("Processing backlog", "short", [`max(doc_rag_queue_length{queue="${PROCESSING_QUEUE}"})`, "queued"]),
        panel("Query accuracy", "percentunit", ["avg(doc_rag_query_accuracy)", "accuracy"]),
        panel("Query response time (p95)", "s", [
          "histogram_quantile(0.95, sum by (le) (rate(doc_rag_response_time_seconds_bucket[5m])))",
          "p95",
        ]),
      ],
    },
    {
      uid: "doc-rag-data",
      title: "Doc-RAG data services",
      panels: [
        panel("Targets up", "short", [`sum by (job) (up{namespace="${dataNamespace}"})`, "{{job}}"]),
        panel("PostgreSQL backends", "short", ["sum by (pod) (cnpg_backends_total)", "{{pod}}"]),
        panel("PostgreSQL replication lag", "s", ["max by (pod) (cnpg_pg_replication_lag)", "{{pod}}"]),
        panel("Valkey memory used", "bytes", ["sum by (pod) (redis_memory_used_bytes)", "{{pod}}"]),
        panel("Valkey commands per second", "ops", ["sum(rate(redis_commands_processed_total[5m]))", "commands"]),
      ],
    },
  ];
}

/** A dashboard as Grafana's JSON model: time series panels on the Prometheus data source. */
export function dashboardModel(dashboard: Dashboard): Record<string, unknown> {
  return {
    uid: dashboard.uid,
    title: dashboard.title,
    tags: ["doc-rag"],
    timezone: "utc",
    schemaVersion: 39,
    refresh: "30s",
    time: { from: "now-6h", to: "now" },
    panels: dashboard.panels.map((p, i) => ({
      id: i + 1,
      type: "timeseries",
      title: p.title,
      datasource: { type: "prometheus", uid: "prometheus" },
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: p.targets.map((t, j) => ({
        refId: String.fromCharCode(65 + j),
        datasource: { type: "prometheus", uid: "prometheus" },
        expr: t.expr,
        legendFormat: t.legendFormat,
      })),
    })),
  };
}
